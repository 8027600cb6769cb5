"""Replicas on PostgreSQL, end to end: people write to the bot by Telegram webhook (through a
load balancer that picks any replica) and each waits for the bot's answer before writing the
next line. Messages/s and the time from a webhook call to the answer reaching the local Bot
API server, for today's single process and for 1, 2 and 4 replica processes.

    .venv/bin/python -m bench.replicas            # about two minutes
    .venv/bin/python -m bench.replicas --quick

Everything runs on this machine: PostgreSQL, the Bot API server, the people, the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from pathlib import Path

import yaml

from bench.__main__ import machine, postgres_database
from bench.engine import RunResult, script
from storage import crypto
from storage.database import upgrade_database
from tests.replicas import WEBHOOK_SECRET, ReplicaSet, common_env
from tests.telegram_api import FakeTelegram
from tests.webhook_pusher import WebhookPusher

PEOPLE = int(os.environ.get("BENCH_PEOPLE", "50"))
SETUPS = (("one process, as today (no roles)", 0), ("1 replica", 1), ("2 replicas", 2),
          ("4 replicas", 4))


def environment(telegram: FakeTelegram, url: str, experts: Path, key: str) -> dict[str, str]:
    return {**common_env(telegram, url, experts), "WEERBAAR_ENCRYPTION_KEYS": key,
            "WEERBAAR_LOG_LEVEL": "WARNING", "WEERBAAR_RETENTION_DAYS": "0",
            "WEERBAAR_REPLICA_HEARTBEAT_SECONDS": "2", "WEERBAAR_REPLICA_STALLED_SECONDS": "10",
            "WEERBAAR_WORKERS": os.environ.get("BENCH_WORKERS", "16")}


def write_experts(path: Path) -> Path:
    path.write_text(yaml.safe_dump({
        "experts": [{"id": "anna", "name": "Anna de Vries", "address": "telegram:9001",
                     "specialties": ["rechtshulp", "nazorg"], "max_open_cases": 1000},
                    {"id": "carla", "name": "Carla Smit", "address": "telegram:9003",
                     "coordinator": True}],
        "on_call": {"shifts": [{"specialty": "rechtshulp", "experts": ["anna"]},
                               {"specialty": "nazorg", "experts": ["anna"]}]}}))
    return path


async def replies_per_line(telegram: FakeTelegram, chat: int) -> list[int]:
    """How many messages the bot answers each line of the script with, the first time and
    the times after (a warm-up person, who waits until the chat is quiet after each line)."""
    counts = []
    for line in script() * 2:
        before = len(telegram.to(chat))
        telegram.user_says(chat, line)
        await telegram.wait_for(chat, before + 1, within=30)
        while True:
            seen = len(telegram.to(chat))
            await asyncio.sleep(0.3)
            if len(telegram.to(chat)) == seen:
                break
        counts.append(len(telegram.to(chat)) - before)
    return counts


async def person(telegram: FakeTelegram, chat: int, counts: list[int], until: float,
                 latencies: list[float], rng: random.Random) -> int:
    lines = script()
    sent, at = 0, 0
    before = len(telegram.to(chat))
    await asyncio.sleep(rng.uniform(0, 0.5))  # not all at the same moment
    while time.monotonic() < until:
        line = lines[at % len(lines)]
        expect = counts[at if at < len(lines) else len(lines) + at % len(lines)]
        started = time.perf_counter()
        telegram.user_says(chat, line)
        await telegram.wait_for(chat, before + expect, within=60)
        latencies.append((time.perf_counter() - started) * 1000)
        before += expect
        sent += 1
        at += 1
    return sent


async def measure(replicas: int, seconds: float, key: str) -> RunResult:
    telegram = FakeTelegram()
    await telegram.start()
    with tempfile.TemporaryDirectory() as directory, postgres_database() as url:
        upgrade_database(url)
        data = Path(directory)
        group = ReplicaSet(data / "data", environment(
            telegram, url, write_experts(data / "experts.yaml"), key))
        members = [group.add(f"r{i}", "ingress,worker") for i in range(replicas)] \
            if replicas else [group.add("single", "")]
        pusher = WebhookPusher(telegram, group.ingress_ports if replicas else
                               (lambda: [members[0].webhook_port]), WEBHOOK_SECRET)
        try:
            for member in members:
                await group.start(member)
            await pusher.start()
            counts = await replies_per_line(telegram, 100)
            latencies: list[float] = []
            until = time.monotonic() + seconds
            started = time.perf_counter()
            sent = await asyncio.gather(*(
                person(telegram, 1000 + n, counts, until, latencies, random.Random(n))
                for n in range(PEOPLE)))
            took = time.perf_counter() - started
        finally:
            await pusher.stop()
            await group.stop_all()
            await group.kill_all()
            await telegram.stop()
    return RunResult(sum(sent), took, latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    seconds = 4.0 if parser.parse_args().quick else 20.0
    key = crypto.new_key()
    crypto.configure([key])
    print(f"Machine: {machine()}\n")
    print(f"{PEOPLE} people, each writing the next line once the bot answered the last, "
          f"{seconds:.0f} s per setup; from the webhook call to the answer at the Bot API "
          "server:\n")
    print("| setup | messages/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|")
    for label, replicas in SETUPS:
        result = asyncio.run(measure(replicas, seconds, key))
        print(f"| {label} | {result.rate:,.0f} | {result.p50:.1f} | "
              f"{result.percentile(99):.1f} |", flush=True)


if __name__ == "__main__":
    main()
