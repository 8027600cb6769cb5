"""Several replicas on one PostgreSQL database, as separate processes, with Telegram by
webhook (a local Bot API server and a load balancer that picks any live replica) and Matrix on
a real Synapse (the replica holding the lease)."""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
import yaml
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from storage.database import create_db_engine
from storage.models import Case, Checkin, Handoff, Message
from tests.checkin_support import CHECKIN_HELLO
from tests.crash_support import CHECKIN_ANSWERS, CHECKIN_DONE, intake_script, talk
from tests.intake import INCIDENT_SUBMITTED
from tests.matrix_person import MatrixPerson
from tests.replicas import WEBHOOK_SECRET, ReplicaProcess, ReplicaSet, common_env
from tests.synapse import Synapse
from tests.telegram_api import FakeTelegram
from tests.webhook_pusher import WebhookPusher

pytestmark = pytest.mark.slow  # starts the bot as processes

EXPERT = 9001
MIN_KILLS = 3
"""Kills during the conversations, the first of the Matrix lease's holder: 4 until 2026-12-08,
when a machine that took 5-6 s to start a replica gave 3 in every full run."""
MAX_KILLS = 10


def write_experts(path: Path) -> Path:
    path.write_text(yaml.safe_dump({
        "experts": [{"id": "anna", "name": "Anna de Vries", "address": f"telegram:{EXPERT}",
                     "specialties": ["rechtshulp"], "max_open_cases": 50},
                    {"id": "carla", "name": "Carla Smit", "address": "telegram:9003",
                     "coordinator": True}],
        "on_call": {"shifts": [{"specialty": "rechtshulp", "experts": ["anna"]}]}}))
    return path


@pytest.fixture
async def cluster(tmp_path: Path, postgres_url: str,
                  ) -> AsyncIterator[tuple[ReplicaSet, FakeTelegram, WebhookPusher]]:
    telegram = FakeTelegram()
    await telegram.start()
    replicas = ReplicaSet(tmp_path / "data", common_env(
        telegram, postgres_url, write_experts(tmp_path / "experts.yaml")))
    pusher = WebhookPusher(telegram, replicas.ingress_ports, WEBHOOK_SECRET)
    await pusher.start()
    try:
        yield replicas, telegram, pusher
    finally:
        await pusher.stop()
        # Shown when a test fails: what each run of each replica said, but its turns.
        for name, code, log in await replicas.stop_all():
            print(f"--- replica {name} exited {code}:\n{_notable(log)}")
        for replica in replicas.replicas:
            for run, log in enumerate(replica.logs):
                print(f"--- replica {replica.name}, run {run} (killed):\n{_notable(log)}")
        await telegram.stop()


def _notable(log: str) -> str:
    return "\n".join(line for line in log.splitlines()
                     if "] turn " not in line and "case." not in line)[-20_000:]


async def test_two_replicas_answer_one_person_in_order(
        cluster: tuple[ReplicaSet, FakeTelegram, WebhookPusher], postgres_url: str) -> None:
    replicas, telegram, pusher = cluster
    for name in ("a", "b"):
        await replicas.start(replicas.add(name, "ingress,worker"))
    pusher.rng = random.Random(7)
    person = 501
    for line in INCIDENT_SUBMITTED:
        count = len(telegram.to(person))
        telegram.user_says(person, line)
        await telegram.wait_for(person, count + 1, within=30)
    # some turns send two messages, so "one more" can be met by the turn before: wait for the
    # intake's last message (the expert was asked) before the replicas stop
    await telegram.wait_until(lambda: any("Ik heb een medewerker gevraagd" in m.text
                                          for m in telegram.to(person)), within=30)
    first = replicas.replicas[0]
    health = first.health()
    assert health is not None and health["status"] == "ok"
    assert health["replica"] == {"name": "a", "roles": ["ingress", "worker"], "leases": []}
    async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{first.health_port}/metrics") as response:
        page = await response.text()
    assert "weerbaar_queue_waiting_jobs " in page
    assert "weerbaar_queue_oldest_waiting_seconds " in page
    results = await replicas.stop_all()
    assert [code for _, code, _ in results] == [0, 0], results
    db = create_db_engine(postgres_url)
    with Session(db) as session:
        rows = list(session.scalars(select(Message).where(Message.address == str(person))
                                    .order_by(Message.id)))
    db.dispose()
    assert [m.body.get("text") for m in rows if m.direction == "in"] == INCIDENT_SUBMITTED
    outbound = [m.body["text"] for m in rows if m.direction == "out"]
    assert [m.text for m in telegram.to(person)] == outbound
    assert any(str(EXPERT) == str(m.chat_id) for m in telegram.sent), "the expert was asked"


PEOPLE = list(range(701, 717))  # sixteen people on Telegram
MATRIX_PEOPLE = 4  # and four on Matrix: twenty at once
COORDINATOR = 9003


async def talk_on_matrix(person: MatrixPerson, rng: random.Random) -> None:
    """The same on Matrix (the person's own words: number 0)."""

    async def until(condition: Callable[[], bool]) -> None:
        deadline = asyncio.get_running_loop().time() + 90
        while not condition():
            assert asyncio.get_running_loop().time() < deadline, "left without an answer"
            await asyncio.sleep(0.05)

    async def say(line: str) -> None:
        await person.exchange(line, within=90)
        await asyncio.sleep(rng.uniform(0.2, 0.6))

    for line in intake_script(0):
        await say(line)
    await until(lambda: any(CHECKIN_HELLO in text for text in person.received))
    for line in CHECKIN_ANSWERS:
        await say(line)
    await until(lambda: any(CHECKIN_DONE in text for text in person.received))


def lease_holder(members: list[ReplicaProcess]) -> ReplicaProcess | None:
    for replica in members:
        health = replica.health() if replica.running else None
        info = health.get("replica") if health else None
        if isinstance(info, dict) and "matrix" in info["leases"]:
            return replica
    return None


def resent_in_order(chat: int, expected: list[str], received: list[str]) -> int:
    """Every expected message arrived, in order; one may come twice in a row (the one in
    flight when a replica died, sent again by the replica that took over). Returns how many
    came twice."""
    at, again = 0, 0
    for message in received:
        if at < len(expected) and message == expected[at]:
            at += 1
        elif at > 0 and message == expected[at - 1]:
            again += 1
        else:
            raise AssertionError(f"chat {chat}: out of order or unexpected: {message[:60]!r} "
                                 f"after {at} of {len(expected)}")
    assert at == len(expected), f"chat {chat}: {len(expected) - at} never arrived"
    return again


async def test_sigkill_of_any_replica_loses_nothing_and_sends_nothing_twice(
        cluster: tuple[ReplicaSet, FakeTelegram, WebhookPusher], postgres_url: str,
        synapse: Synapse, tmp_path: Path) -> None:
    """Three replicas, each with every role; sixteen people on Telegram and four on Matrix;
    a random replica killed with SIGKILL every second or so, and started again."""
    replicas, telegram, pusher = cluster
    suffix = uuid.uuid4().hex[:8]
    bot_id = synapse.register(f"bot{suffix}", "bot-pw")
    replicas.common.update({
        "WEERBAAR_CHANNELS": "telegram,matrix", "WEERBAAR_MATRIX_HOMESERVER": synapse.url,
        "WEERBAAR_MATRIX_USER_ID": bot_id, "WEERBAAR_MATRIX_PASSWORD": "bot-pw"})
    seed = int(os.environ.get("CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    pusher.rng = random.Random(rng.random())
    timers = {"WEERBAAR_ESCALATION_SECONDS": "6", "WEERBAAR_ESCALATION_URGENT_SECONDS": "6",
              "WEERBAAR_CHECKIN_PLANS": '{"incident": [{"after": "3s"}]}',
              "WEERBAAR_CHECKIN_HOURS": "00:00-24:00",
              "WEERBAAR_CHECKIN_DAYS": "mon,tue,wed,thu,fri,sat,sun", "WEERBAAR_WORKERS": "8"}
    members = [replicas.add(name, "ingress,worker,matrix", **timers)
               for name in ("a", "b", "c")]
    for replica in members:
        await replicas.start(replica)
    on_matrix = []
    for n in range(MATRIX_PEOPLE):
        user = synapse.register(f"p{n}{suffix}", "pw")
        person = MatrixPerson(synapse.url, user, "pw", tmp_path / f"person{n}")
        await person.start()
        await person.open_chat_with(bot_id)
        on_matrix.append(person)
    # people pause as people do (1-2 s), so that the conversations outlast several kills even where
    # a replica takes seconds to start again (the loop below waits for each start)
    talking = [asyncio.create_task(talk(telegram, chat, random.Random(rng.random()),
                                                pause=(1.0, 2.0)))
               for chat in PEOPLE]
    talking += [asyncio.create_task(talk_on_matrix(person, random.Random(rng.random())))
                for person in on_matrix]
    kills = 0
    try:
        while kills < MAX_KILLS and not all(t.done() for t in talking):
            await asyncio.sleep(rng.uniform(0.3, 1.2))
            holder = lease_holder(members) if kills == 0 else None  # first: the lease's
            victim = holder or rng.choice([r for r in members if r.running])
            await replicas.kill(victim)
            kills += 1
            await asyncio.sleep(rng.uniform(0.1, 0.8))
            await replicas.start(victim)
        await asyncio.gather(*talking)
    finally:
        for task in talking:
            task.cancel()
        await asyncio.gather(*talking, return_exceptions=True)
        for person in on_matrix:
            await person.stop()
    assert kills >= MIN_KILLS, f"seed {seed}: the conversations ended too soon"
    taken = sum(log.count("lease.taken") for r in members for log in r.logs)
    await asyncio.sleep(1)  # the last reports of delivery
    results = await replicas.stop_all()
    assert [code for _, code, _ in results] == [0, 0, 0], f"seed {seed}"
    taken += sum(log.count("lease.taken") for _, _, log in results)
    assert taken >= 2, "the Matrix lease was taken over after its holder was killed"

    db = create_db_engine(postgres_url)
    again = 0
    with Session(db) as session:
        for chat in PEOPLE:
            rows = list(session.scalars(select(Message).where(Message.address == str(chat))
                                        .order_by(Message.id)))
            inbound = [m.body.get("text") for m in rows if m.direction == "in"]
            assert inbound == [*intake_script(chat), *CHECKIN_ANSWERS], (
                f"seed {seed}: chat {chat}: each message handled once, in order")
            outbound = [m for m in rows if m.direction == "out"]
            assert all(m.delivered_at is not None for m in outbound), f"seed {seed}"
            texts = [m.body["text"] for m in outbound]
            assert len(set(texts)) == len(texts), (
                f"seed {seed}: chat {chat}: no notice (escalation, check-in) made twice")
            again += resent_in_order(chat, texts, [m.text for m in telegram.to(chat)])
        for person in on_matrix:
            rows = list(session.scalars(select(Message).where(
                Message.address == person.client.user_id).order_by(Message.id)))
            inbound = [m.body.get("text") for m in rows if m.direction == "in"]
            assert inbound == [*intake_script(0), *CHECKIN_ANSWERS], f"seed {seed}"
            replies = [m.body["text"] for m in rows if m.direction == "out"]
            assert len(set(replies)) == len(replies), f"seed {seed}: nothing made twice"
            # Exactly once on Matrix: a resend has the same transaction id, dropped by the
            # homeserver. (Options come as a numbered list under the text.)
            assert len(person.received) == len(replies), f"seed {seed}"
            assert all(got.startswith(sent) for got, sent in
                       zip(person.received, replies, strict=True)), f"seed {seed}"
        everyone = len(PEOPLE) + MATRIX_PEOPLE
        cases = list(session.scalars(select(Case)))
        assert len(cases) == everyone
        assert all(case.escalation_level >= 1 for case in cases), "every case escalated"
        checkins = list(session.scalars(select(Checkin)))
        assert sorted(c.status for c in checkins) == ["sent"] * everyone
        handoffs = list(session.scalars(select(Handoff)))
        assert len({h.case_id for h in handoffs if h.expert == "anna"}) == everyone
        for expert in (EXPERT, COORDINATOR):
            rows = list(session.scalars(select(Message).where(
                Message.address == str(expert)).order_by(Message.id)))
            again += resent_in_order(expert, [m.body["text"] for m in rows],
                                     [m.text for m in telegram.to(expert)])
        left = session.execute(text(
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') "
            "AND task_name IN ('weerbaar.turn', 'weerbaar.deliver')")).scalar()
        assert left == 0, "no turn or delivery left behind (the next timers job may wait)"
    db.dispose()
    assert again <= kills * 8, f"seed {seed}: at most the messages in flight sent again"
    print(f"seed {seed}: {kills} kills, {again} messages sent again, "
          f"{pusher.refused} webhook calls refused or unanswered, Matrix lease taken "
          f"{taken} times")


async def test_a_flood_on_a_replica_is_held_back_with_one_calm_notice(
        cluster: tuple[ReplicaSet, FakeTelegram, WebhookPusher]) -> None:
    replicas, telegram, _ = cluster
    await replicas.start(replicas.add("a", "ingress,worker", WEERBAAR_FLOOD_LIMIT="5/60 seconds"))
    person = 601
    for n in range(12):
        telegram.user_says(person, f"bericht {n}")
    await telegram.wait_until(lambda: any("U stuurt veel berichten" in m.text
                                          for m in telegram.to(person)), within=30)
    await asyncio.sleep(2)  # what else would come
    notices = [m for m in telegram.to(person) if "U stuurt veel berichten" in m.text]
    assert len(notices) == 1
    assert "You are sending many messages" in notices[0].text  # both languages: not looked up
