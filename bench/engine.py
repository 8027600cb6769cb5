"""Engine benchmarks: throughput and turn latency with the real storage, the raw durable-commit
rate of the same database, and the memory cost of stored idle conversations."""

from __future__ import annotations

import asyncio
import functools
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import Column, Integer, MetaData, Table, insert

from bot.channel import InboundHandler
from bot.conversation import ConversationLogic
from bot.engine import Engine as BotEngine
from bot.events import InboundEvent, OutboundMessage
from config import TEXT_PLACEHOLDERS, Facts, text_facts
from flows import load_flows
from storage.database import create_db_engine
from tests.intake_script import INCIDENT_FOR_AFTERCARE, intake


@functools.cache
def bench_logic() -> ConversationLogic:
    """The conversation logic every run uses (it keeps no state of a conversation)."""
    return ConversationLogic(load_flows(placeholders=TEXT_PLACEHOLDERS), text_facts(Facts(), 365))


@functools.cache
def script() -> list[str]:
    """One person's incident intake, repeated: after "nieuwe melding" it starts again at the
    menu. Derived from the flow (tests/intake_script.py), so a new question is walked too."""
    to_summary = intake(bench_logic(), "incident", INCIDENT_FOR_AFTERCARE, until="summary")
    return [*to_summary[1:], "ja", "nieuwe melding"]


class NullChannel:
    """Delivers instantly; the benchmark measures the engine and the database, not a network.
    Like Telegram and Matrix it answers with the id of what it posted, which the engine keeps
    (encrypted) so the chat can be wiped later."""

    name = "bench"

    async def start(self, handler: InboundHandler) -> None:
        return None

    async def wait_closed(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, message: OutboundMessage) -> list[str] | None:
        return [str(message.id)]

    def healthy(self) -> bool:
        return True


@dataclass
class RunResult:
    messages: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)


async def _drive(url: str, conversations: int,
                 person: Callable[[BotEngine, str, list[float]], Awaitable[None]]) -> RunResult:
    """Run ``person`` for each of ``conversations`` people against a fresh engine on ``url``."""
    db = create_db_engine(url)
    logic = bench_logic()
    engine = BotEngine(db, logic)
    await engine.start({"bench": NullChannel()})
    latencies: list[float] = []

    async def one(index: int) -> None:
        who = f"bench-{uuid.uuid4().hex[:8]}-{index}"
        await _turn(engine, who, "hallo", [])
        await person(engine, who, latencies)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(conversations)))
    elapsed = time.perf_counter() - started
    await engine.stop()
    db.dispose()
    return RunResult(len(latencies), elapsed, latencies)


async def _turn(engine: BotEngine, person: str, line: str, latencies: list[float]) -> None:
    start = time.perf_counter()
    await engine.handle(InboundEvent("bench", person, uuid.uuid4().hex, text=line))
    latencies.append((time.perf_counter() - start) * 1000)


async def closed_loop(url: str, conversations: int, seconds: float) -> RunResult:
    """Each conversation sends its next message as soon as the previous one was answered."""
    stop_at = time.perf_counter() + seconds

    async def person(engine: BotEngine, who: str, latencies: list[float]) -> None:
        step = 0
        while time.perf_counter() < stop_at:
            await _turn(engine, who, script()[step % len(script())], latencies)
            step += 1

    return await _drive(url, conversations, person)


async def open_loop(url: str, conversations: int, rate: float, seconds: float) -> RunResult:
    """Messages arrive at ``rate`` per second in all, spread over ``conversations`` people
    (Poisson arrivals); each person's next message waits for the previous reply."""
    per_person = rate / conversations
    rng = random.Random(7)
    stop_at = time.perf_counter() + seconds

    async def person(engine: BotEngine, who: str, latencies: list[float]) -> None:
        step = 0
        next_at = time.perf_counter() + rng.expovariate(per_person)
        while next_at < stop_at:
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            await _turn(engine, who, script()[step % len(script())], latencies)
            step += 1
            next_at += rng.expovariate(per_person)

    return await _drive(url, conversations, person)


def raw_commit_rate(url: str, seconds: float) -> float:
    """Single-row insert and durable commit, one after the other, on the same database."""
    db = create_db_engine(url)
    table = Table(f"bench_commit_{uuid.uuid4().hex[:8]}", MetaData(),
                  Column("id", Integer, primary_key=True), Column("n", Integer))
    table.create(db)
    count = 0
    try:
        stop_at = time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < stop_at:
            with db.begin() as connection:
                connection.execute(insert(table).values(n=count))
            count += 1
        elapsed = time.perf_counter() - started
    finally:
        table.drop(db)
        db.dispose()
    return count / elapsed
