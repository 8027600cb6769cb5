"""Check-ins at scale: start-up time and memory of the bot with 100,000 pending check-ins, and
the rate at which due check-ins go out under the configured rate limit.

The database is filled in bulk (people, cases, planned check-ins), then the real `run_bot.py`
is started on it, or the real engine and scheduler in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine as DbEngine
from sqlalchemy import func, insert, select

from bench.engine import NullChannel
from bot.app import start_scheduler, stop_scheduler
from bot.checkins import CheckinDesk, CheckinSettings
from bot.conversation import ConversationLogic
from bot.engine import Engine as BotEngine
from bot.events import OutboundMessage
from config import TEXT_PLACEHOLDERS, Facts, text_facts
from config.sending_hours import DAYS, SendingHours
from flows import load_flows
from storage.checkins import CHECKINS, PLANNED
from storage.database import create_db_engine, upgrade_database
from storage.models import Case, Person

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 5_000
HELLO = "Ik wil graag even horen hoe het nu met u gaat"


def _chunks(count: int) -> Iterator[range]:
    for start in range(0, count, CHUNK):
        yield range(start, min(count, start + CHUNK))


def fill(url: str, count: int, due: datetime, spread: timedelta = timedelta(0)) -> None:
    """``count`` people, each with a submitted case and one planned check-in, due from
    ``due`` over ``spread``."""
    upgrade_database(url)
    db = create_db_engine(url)
    now = datetime.now(UTC)
    try:
        for part in _chunks(count):
            with db.begin() as cx:
                people = cx.execute(insert(Person).returning(Person.id), [
                    {"channel": "console", "address": f"bench-{i}", "language": "nl",
                     "created_at": now, "last_seen_at": now} for i in part]).scalars().all()
                cases = cx.execute(insert(Case).returning(Case.id), [
                    {"person_id": p, "kind": "incident", "status": "closed", "intake": {},
                     "submitted_at": now} for p in people]).scalars().all()
                step = spread / max(1, count)
                when = [due + step * i for i in part]
                cx.execute(insert(CHECKINS), [
                    {"person_id": p, "case_id": c, "due_at": w, "lasting": False,
                     "status": PLANNED, "created_at": now}
                    for p, c, w in zip(people, cases, when, strict=True)])
    finally:
        db.dispose()


@dataclass(frozen=True)
class Startup:
    seconds: float
    rss_mib: float


def startup(data_dir: Path, env: dict[str, str]) -> Startup:
    """Start `run_bot.py` on the console, say "hallo" at once, and time the first reply."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WEERBAAR_")}
    environment.update(WEERBAAR_DATA_DIR=str(data_dir), **env)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "run_bot.py"], cwd=ROOT, env=environment,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, bufsize=1)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("hallo\n")
    process.stdin.flush()
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("Welkom."):
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(120):
            raise RuntimeError("the bot did not answer within 120 s")
        seconds = time.perf_counter() - started
        time.sleep(1.0)  # let the scheduler settle after the first reply
        with open(f"/proc/{process.pid}/status", encoding="ascii") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    return Startup(seconds, rss / 1024)


class CheckinInbox(NullChannel):
    name = "console"

    def __init__(self, expected: int) -> None:
        self.times: list[float] = []
        self.expected = expected
        self.all_there = asyncio.Event()

    async def send(self, message: OutboundMessage) -> None:
        if HELLO in message.text:
            self.times.append(time.perf_counter())
            if len(self.times) >= self.expected:
                self.all_there.set()


@dataclass(frozen=True)
class SendRate:
    sent: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


async def send_rate(url: str, count: int, limit: float) -> SendRate:
    """``count`` check-ins all due now; the engine and scheduler started on them; how fast do
    they go out with at most ``limit`` per second."""
    db: DbEngine = create_db_engine(url)
    flows = load_flows(placeholders=TEXT_PLACEHOLDERS)
    logic = ConversationLogic(flows, text_facts(Facts(), 365))
    desk = CheckinDesk(CheckinSettings(plans={}, hours=SendingHours.parse("00:00-24:00", DAYS),
                                       grace=timedelta(days=1)), logic)
    engine = BotEngine(db, logic, checkins=desk, checkin_rate_per_second=limit)
    inbox = CheckinInbox(count)
    await engine.start({"console": inbox})
    started = time.perf_counter()
    scheduler = start_scheduler(engine, db)
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(inbox.all_there.wait(), timeout=count / limit * 2 + 60)
        await engine.drain()
        with db.connect() as cx:
            sent = cx.execute(select(func.count()).select_from(CHECKINS)
                              .where(CHECKINS.c.status == "sent")).scalar_one()
        assert sent == len(inbox.times), "every check-in marked sent was delivered, once"
    finally:
        stop_scheduler(scheduler)
        await engine.stop()
        db.dispose()
    seconds = (inbox.times[-1] - started) if inbox.times else 0.0
    return SendRate(len(inbox.times), seconds)
