"""Crash test: people talk to the bot on Telegram (a local Bot API server) while the bot process
is killed with SIGKILL at random moments and started again, over and over.

Afterwards every answer is in the database, every message was handled once, every reply and
check-in arrived, and every handoff was asked. A reply can be sent twice only in the one way
at-least-once delivery allows: a message that had reached Telegram when the bot died, before
the bot wrote down that it had. The next run sends those again, first and in order; anything
else sent twice fails the test. Set CRASH_SEED to repeat a run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.database import create_db_engine, upgrade_database
from storage.models import Case, Checkin, Handoff, Message, Person
from tests.bot_process import start_bot, stop_bot
from tests.conftest import TEST_KEY
from tests.crash_support import CHECKIN_ANSWERS, intake_script, talk
from tests.harness import Bot
from tests.telegram_api import FakeTelegram, Sent

pytestmark = pytest.mark.slow  # starts the bot as a process

PEOPLE = list(range(101, 111))
EXPERT = 9001
MIN_KILLS = 6
MAX_KILLS = 12


@dataclass
class Run:
    telegram: FakeTelegram
    data_dir: Path
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    kills: int = 0

    async def start(self) -> None:
        polls = len(self.telegram.polls)
        self.process = await start_bot(self.data_dir, **self.env)
        await self.telegram.wait_until(lambda: len(self.telegram.polls) > polls, within=60)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL
        await self.process.communicate()
        self.telegram.epoch += 1  # from here on, what Telegram records is from the next run
        self.kills += 1


@pytest.fixture
async def run(tmp_path: Path) -> AsyncIterator[Run]:
    telegram = FakeTelegram()
    await telegram.start()
    experts = tmp_path / "experts.yaml"
    experts.write_text(yaml.safe_dump({
        "experts": [{"id": "anna", "name": "Anna de Vries", "address": f"telegram:{EXPERT}",
                     "specialties": ["rechtshulp"], "max_open_cases": 20},
                    {"id": "carla", "name": "Carla Smit", "address": "telegram:9003",
                     "coordinator": True}],
        "on_call": {"shifts": [{"specialty": "rechtshulp", "experts": ["anna"]}]}}))
    env = {"WEERBAAR_CHANNELS": "telegram", "WEERBAAR_TELEGRAM_TOKEN": telegram.token,
           "WEERBAAR_TELEGRAM_BASE_URL": telegram.base_url,
           "WEERBAAR_TELEGRAM_POLL_TIMEOUT_SECONDS": "1",
           "WEERBAAR_ENCRYPTION_KEYS": TEST_KEY, "WEERBAAR_EXPERTS_FILE": str(experts),
           "WEERBAAR_ESCALATION_SECONDS": "3600", "WEERBAAR_FLOOD_LIMIT": "",
           "WEERBAAR_CHECKIN_PLANS": '{"incident": [{"after": "3s"}]}',
           "WEERBAAR_CHECKIN_HOURS": "00:00-24:00",
           "WEERBAAR_CHECKIN_DAYS": "mon,tue,wed,thu,fri,sat,sun"}
    state = Run(telegram, tmp_path / "data", env)
    try:
        yield state
    finally:
        if state.process is not None and state.process.returncode is None:
            state.process.kill()
            await state.process.communicate()
        await telegram.stop()


def check_delivery(chat: int, expected: list[str], received: list[Sent]) -> int:
    """Every expected message arrived in order; a run may first resend a tail of what the
    run before it had sent. Returns how many were resent."""
    delivered, resent = 0, 0
    for epoch in sorted({m.epoch for m in received}):
        texts = [m.text for m in received if m.epoch == epoch]
        start = next((s for s in range(delivered + 1)
                      if expected[s:s + len(texts)] == texts), None)
        assert start is not None, (f"chat {chat}, run {epoch}: out of order, lost or sent "
                                   f"twice: {[t[:40] for t in texts]}")
        resent += min(delivered, start + len(texts)) - start
        delivered = max(delivered, start + len(texts))
    assert delivered == len(expected), f"chat {chat}: {len(expected) - delivered} never arrived"
    return resent


async def reference_intakes(tmp_path: Path) -> dict[str, dict[str, object]]:
    """What each intake looks like in a bot that was never killed."""
    url = f"sqlite:///{tmp_path / 'reference.db'}"
    upgrade_database(url)
    async with Bot(url) as bot:
        for chat in PEOPLE:
            await bot.script(intake_script(chat), who=str(chat))
        return {str(chat): bot.cases(str(chat))[0].intake for chat in PEOPLE}


async def test_sigkill_at_random_moments_loses_nothing(run: Run, tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    telegram = run.telegram
    await run.start()
    talking = [asyncio.create_task(talk(telegram, chat, random.Random(rng.random())))
               for chat in PEOPLE]
    try:
        while run.kills < MAX_KILLS and not all(t.done() for t in talking):
            await asyncio.sleep(rng.uniform(0.1, 1.2))
            if all(t.done() for t in talking):
                break
            await run.kill()
            await run.start()
        await asyncio.gather(*talking)
    finally:
        for task in talking:
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*talking)
    assert run.kills >= MIN_KILLS, f"seed {seed}: the conversations ended too soon"
    assert run.process is not None
    code, _ = await stop_bot(run.process)
    assert code == 0

    reference = await reference_intakes(tmp_path)
    db = create_db_engine(f"sqlite:///{run.data_dir / 'weerbaar.db'}")
    resent = 0
    with Session(db) as session:
        for chat in PEOPLE:
            who = str(chat)
            rows = list(session.scalars(select(Message).where(Message.address == who)
                                        .order_by(Message.id)))
            inbound = [m.body.get("text") for m in rows if m.direction == "in"]
            assert inbound == [*intake_script(chat), *CHECKIN_ANSWERS], (
                f"seed {seed}: chat {chat}: each message is handled once, in order")
            outbound = [m for m in rows if m.direction == "out"]
            assert all(m.delivered_at is not None for m in outbound)
            resent += check_delivery(chat, [m.body["text"] for m in outbound],
                                     telegram.to(chat))
            cases = list(session.scalars(select(Case).join(Person, Case.person_id == Person.id)
                                         .where(Person.address == who)))
            assert [c.intake for c in cases] == [reference[who]], f"seed {seed}: chat {chat}"
            checkins = list(session.scalars(select(Checkin).where(
                Checkin.case_id == cases[0].id)))
            assert [c.status for c in checkins] == ["sent"]
        expert_rows = list(session.scalars(select(Message).where(
            Message.address == str(EXPERT)).order_by(Message.id)))
        resent += check_delivery(EXPERT, [m.body["text"] for m in expert_rows],
                                 telegram.to(EXPERT))
        handoffs = {h.id for h in session.scalars(select(Handoff))}
        assert len(handoffs) == len(PEOPLE), "one handoff per case"
    db.dispose()
    asked = {int(data.split(":")[1]) for m in telegram.to(EXPERT) for _, data in m.buttons
             if data.endswith(":accept")}
    assert asked == handoffs, "every handoff was asked"
    print(f"seed {seed}: {run.kills} kills, {resent} messages sent again after a kill")
