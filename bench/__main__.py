"""Run the engine benchmarks on SQLite and PostgreSQL and print a Markdown report.

    .venv/bin/python -m bench            # about eight minutes on a 2-core machine
    .venv/bin/python -m bench --quick    # shorter runs, for a smoke test

PostgreSQL: the local server (WEERBAAR_TEST_POSTGRES_URL, default the `test` database); each run
uses a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.checkins import fill, send_rate, startup
from bench.engine import closed_loop, open_loop, raw_commit_rate
from bench.handoff import handoff_latency
from bench.memory import compare
from bench.ptb_baseline import closed_loop as ptb_closed_loop
from storage import crypto
from storage.database import upgrade_database

POSTGRES_URL = os.environ.get("WEERBAAR_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CONVERSATIONS = 100
OFFERED_RATES = (100, 500, 1000)
IDLE_CONVERSATIONS = 100_000
HANDOFF_CASES = 100
PENDING_CHECKINS = 100_000
CHECKIN_RATE = 10.0  # the default of checkin_rate_per_second
ALL_HOURS = {"WEERBAAR_CHECKIN_HOURS": "00:00-24:00",
             "WEERBAAR_CHECKIN_DAYS": "mon,tue,wed,thu,fri,sat,sun"}


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory:
        yield f"sqlite:///{Path(directory) / 'bench.db'}"


@contextmanager
def postgres_database() -> Iterator[str]:
    schema = f"weerbaar_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


DATABASES = {"SQLite": sqlite_database, "PostgreSQL": postgres_database}


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="ascii") as info:
        memory_gib = int(info.readline().split()[1]) / 1024 / 1024
    engine = create_engine(POSTGRES_URL)
    with engine.connect() as connection:
        postgres = connection.execute(text("SHOW server_version")).scalar()
    engine.dispose()
    return (f"{os.cpu_count()} cores ({cpu}), {memory_gib:.0f} GiB, Python "
            f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"PostgreSQL {postgres}")


def run(quick: bool) -> None:
    key = crypto.new_key()
    crypto.configure([key])
    seconds = 2.0 if quick else 8.0
    gc.freeze()  # as bot/app.py does once started
    print(f"Machine: {machine()}\n")
    print("| database | measure | messages/s | p50 ms | p99 ms |")
    print("|---|---|---:|---:|---:|")
    for name, database in DATABASES.items():
        with database() as url:
            upgrade_database(url)
            raw = raw_commit_rate(url, seconds / 2)
            print(f"| {name} | raw durable commits, one after another | {raw:,.0f} | | |")
            asyncio.run(open_loop(url, CONVERSATIONS, 300, 2.0))  # warm-up
            gc.collect()
            result = asyncio.run(closed_loop(url, CONVERSATIONS, seconds))
            print(f"| {name} | {CONVERSATIONS} conversations, as fast as possible | "
                  f"{result.rate:,.0f} | {result.p50:.1f} | {result.percentile(99):.1f} |")
            for rate in OFFERED_RATES:
                gc.collect()
                result = asyncio.run(open_loop(url, CONVERSATIONS, rate, seconds))
                print(f"| {name} | {CONVERSATIONS} conversations, {rate} messages/s offered | "
                      f"{result.rate:,.0f} | {result.p50:.1f} | {result.percentile(99):.1f} |")
    gc.collect()
    baseline = asyncio.run(ptb_closed_loop(CONVERSATIONS, seconds))
    print(f"| none: python-telegram-bot ConversationHandler, state in memory | "
          f"{CONVERSATIONS} conversations, as fast as possible | {baseline.rate:,.0f} | "
          f"{baseline.p50:.1f} | {baseline.percentile(99):.1f} |")
    print(f"\nHandoff: {HANDOFF_CASES} people confirm their intake at the same moment; from "
          "each confirmation to the expert's handoff message delivered:\n")
    print("| database | cases | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|")
    for name, database in DATABASES.items():
        with database() as url:
            upgrade_database(url)
            result = asyncio.run(handoff_latency(url, HANDOFF_CASES))
            print(f"| {name} | {result.messages} | {result.p50:.0f} | "
                  f"{result.percentile(99):.0f} |")
    idle = 10_000 if quick else IDLE_CONVERSATIONS
    print(f"\nMemory of the running bot (fresh process, {CONVERSATIONS} people chatting):\n")
    print("| database | stored idle conversations | resident memory MiB | on disk MiB |")
    print("|---|---:|---:|---:|")
    per_conversation = {}
    for name, database in DATABASES.items():
        with database() as empty_url, database() as full_url:
            results = compare({0: empty_url, idle: full_url}, key)
            for count, measured in results.items():
                print(f"| {name} | {count:,} | {measured['rss_kib'] / 1024:.1f} | "
                      f"{measured['database_bytes'] / 2**20:.1f} |")
            memory = (results[idle]["rss_kib"] - results[0]["rss_kib"]) * 1024 / idle
            disk = (results[idle]["database_bytes"] - results[0]["database_bytes"]) / idle
            per_conversation[name] = f"{name} {memory:,.0f} B in memory, {disk:,.0f} B on disk"
    print("\nPer stored idle conversation: " + "; ".join(per_conversation.values()) + ".")
    checkins(quick, key)


def checkins(quick: bool, key: str) -> None:
    pending = 10_000 if quick else PENDING_CHECKINS
    print("\nStart-up with pending check-ins (`run_bot.py` on the console, SQLite; from starting "
          "the process to its answer to a first message):\n")
    print("| pending check-ins | when due | ready after s | resident memory MiB |")
    print("|---:|---|---:|---:|")
    now = datetime.now(UTC)
    cases = [(0, "", now, timedelta(0)),
             (pending, "over the next 90 days", now + timedelta(days=1), timedelta(days=90)),
             (pending, "all overdue (the bot was down)", now - timedelta(minutes=5),
              timedelta(0))]
    for count, label, due, spread in cases:
        with tempfile.TemporaryDirectory() as directory:
            data = Path(directory)
            fill(f"sqlite:///{data / 'weerbaar.db'}", count, due, spread)
            result = startup(data, {"WEERBAAR_ENCRYPTION_KEYS": key, **ALL_HOURS})
            print(f"| {count:,} | {label or '-'} | {result.seconds:.2f} | "
                  f"{result.rss_mib:.1f} |")
    sending = 50 if quick else 200
    print("\nSending due check-ins (each is two messages: a greeting and the first question), "
          "all due at once, engine and scheduler in one process:\n")
    print("| database | check-ins | limit per s | took s | sent per s |")
    print("|---|---:|---:|---:|---:|")
    for name, database in DATABASES.items():
        for count, limit in ((sending, CHECKIN_RATE), (sending * 10, 100_000.0)):
            with database() as url:
                fill(url, count, datetime.now(UTC))
                rate = asyncio.run(send_rate(url, count, limit))
                shown = f"{limit:,.0f}" if limit < 100_000 else "none"
                print(f"| {name} | {rate.sent:,} | {shown} | {rate.seconds:.1f} | "
                      f"{rate.per_second:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    run(parser.parse_args().quick)


if __name__ == "__main__":
    main()
