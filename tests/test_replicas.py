"""Several replicas on one PostgreSQL database, as separate processes, with Telegram by
webhook (a local Bot API server and a load balancer that picks any live replica)."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from storage.database import create_db_engine
from storage.models import Case, Checkin, Handoff, Message
from tests.checkin_support import CHECKIN_HELLO
from tests.conftest import TEST_KEY
from tests.intake import INCIDENT_SUBMITTED
from tests.replicas import WEBHOOK_SECRET, ReplicaSet
from tests.telegram_api import FakeTelegram
from tests.webhook_pusher import WebhookPusher

pytestmark = pytest.mark.slow  # starts the bot as processes

EXPERT = 9001
MIN_KILLS = 4
MAX_KILLS = 10


def common_env(telegram: FakeTelegram, database_url: str, experts: Path) -> dict[str, str]:
    return {"WEERBAAR_CHANNELS": "telegram", "WEERBAAR_TELEGRAM_TOKEN": telegram.token,
            "WEERBAAR_TELEGRAM_BASE_URL": telegram.base_url,
            "WEERBAAR_TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram",
            "WEERBAAR_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEERBAAR_DATABASE_URL": database_url, "WEERBAAR_ENCRYPTION_KEYS": TEST_KEY,
            "WEERBAAR_EXPERTS_FILE": str(experts), "WEERBAAR_FLOOD_LIMIT": "",
            "WEERBAAR_REPLICA_HEARTBEAT_SECONDS": "0.5",
            "WEERBAAR_REPLICA_STALLED_SECONDS": "3"}


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
        for name, code, log in await replicas.stop_all():
            print(f"--- replica {name} exited {code}:\n{log[-3000:]}")  # shown on failure
        for replica in replicas.replicas:
            for run, log in enumerate(replica.logs):
                print(f"--- replica {replica.name}, run {run} (killed):\n{log[-3000:]}")
        await telegram.stop()


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


PEOPLE = list(range(701, 721))  # twenty people at once
CHECKIN_ANSWERS = ["4", "goed", "nee", "ja"]
CHECKIN_DONE = "Dank u wel voor uw antwoorden"
COORDINATOR = 9003


def intake_script(person: int) -> list[str]:
    """The intake with words of this person's own, so answers cannot be mixed up."""
    script = list(INCIDENT_SUBMITTED)
    script[DESCRIPTION] = f"Persoon {person} kreeg een brief met een dreigement."
    return script


DESCRIPTION = INCIDENT_SUBMITTED.index(
    "Hij schreef dat hij weet waar mijn kinderen naar school gaan.")


async def talk(telegram: FakeTelegram, chat: int, rng: random.Random) -> None:
    """The intake and the check-in, each line once the bot answered the one before."""

    async def say(line: str) -> None:
        count = len(telegram.to(chat))
        telegram.user_says(chat, line)
        await telegram.wait_for(chat, count + 1, within=90)  # nobody is left without an answer
        await asyncio.sleep(rng.uniform(0.2, 0.6))  # reading, typing

    for line in intake_script(chat):
        await say(line)
    await telegram.wait_until(lambda: any(CHECKIN_HELLO in m.text for m in telegram.to(chat)),
                              within=90)
    for line in CHECKIN_ANSWERS:
        await say(line)
    await telegram.wait_until(lambda: any(CHECKIN_DONE in m.text for m in telegram.to(chat)),
                              within=90)


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
        cluster: tuple[ReplicaSet, FakeTelegram, WebhookPusher], postgres_url: str) -> None:
    replicas, telegram, pusher = cluster
    seed = int(os.environ.get("CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    pusher.rng = random.Random(rng.random())
    timers = {"WEERBAAR_ESCALATION_SECONDS": "6", "WEERBAAR_ESCALATION_URGENT_SECONDS": "6",
              "WEERBAAR_CHECKIN_PLANS": '{"incident": [{"after": "3s"}]}',
              "WEERBAAR_CHECKIN_HOURS": "00:00-24:00",
              "WEERBAAR_CHECKIN_DAYS": "mon,tue,wed,thu,fri,sat,sun", "WEERBAAR_WORKERS": "8"}
    members = [replicas.add(name, "ingress,worker", **timers) for name in ("a", "b", "c")]
    for replica in members:
        await replicas.start(replica)
    talking = [asyncio.create_task(talk(telegram, chat, random.Random(rng.random())))
               for chat in PEOPLE]
    kills = 0
    try:
        while kills < MAX_KILLS and not all(t.done() for t in talking):
            await asyncio.sleep(rng.uniform(0.3, 1.2))
            victim = rng.choice([r for r in members if r.running])
            await replicas.kill(victim)
            kills += 1
            await asyncio.sleep(rng.uniform(0.1, 0.8))
            await replicas.start(victim)
        await asyncio.gather(*talking)
    finally:
        for task in talking:
            task.cancel()
        await asyncio.gather(*talking, return_exceptions=True)
    assert kills >= MIN_KILLS, f"seed {seed}: the conversations ended too soon"
    await asyncio.sleep(1)  # the last reports of delivery
    results = await replicas.stop_all()
    assert [code for _, code, _ in results] == [0, 0, 0], f"seed {seed}"

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
        cases = list(session.scalars(select(Case)))
        assert len(cases) == len(PEOPLE)
        checkins = list(session.scalars(select(Checkin)))
        assert sorted(c.status for c in checkins) == ["sent"] * len(PEOPLE)
        handoffs = list(session.scalars(select(Handoff)))
        assert len({h.case_id for h in handoffs if h.expert == "anna"}) == len(PEOPLE)
        for expert in (EXPERT, COORDINATOR):
            rows = list(session.scalars(select(Message).where(
                Message.address == str(expert)).order_by(Message.id)))
            again += resent_in_order(expert, [m.body["text"] for m in rows],
                                     [m.text for m in telegram.to(expert)])
        left = session.execute(text("SELECT count(*) FROM procrastinate_jobs "
                                    "WHERE status IN ('todo', 'doing')")).scalar()
        assert left == 0 or left is None
    db.dispose()
    assert again <= kills * 8, f"seed {seed}: at most the messages in flight sent again"
    print(f"seed {seed}: {kills} kills, {again} messages sent again, "
          f"{pusher.refused} webhook calls refused or unanswered")
