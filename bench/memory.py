"""Memory of the running bot with many stored idle conversations: run in a fresh process per
case, so the resident size says what the engine holds."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import time
from typing import Any

from sqlalchemy import insert, text

from bench.engine import closed_loop
from storage import crypto
from storage.database import create_db_engine, upgrade_database
from storage.models import Conversation, Person, utcnow

IDLE_DATA: dict[str, Any] = {
    "answers": {"menu.menu": {"option": "incident"}, "incident.safety": {"option": "no"},
                "incident.role": {"option": "raadslid"}},
    "history": [["menu", "menu"], ["incident", "safety"], ["incident", "role"]],
    "selection": [], "unclear": 0, "confirm": None, "correcting": False,
}


def store_idle_conversations(url: str, count: int) -> None:
    """People halfway through an intake who went quiet."""
    db = create_db_engine(url)
    now = utcnow()
    batch = 5_000
    with db.begin() as connection:
        for start in range(0, count, batch):
            size = min(batch, count - start)
            ids = connection.execute(
                insert(Person).returning(Person.id, sort_by_parameter_order=True),
                [{"channel": "idle", "address": f"idle-{start + i}", "language": "nl",
                  "created_at": now, "last_seen_at": now} for i in range(size)]).scalars().all()
            connection.execute(insert(Conversation), [
                {"person_id": pid, "flow": "incident", "state": "org_type", "status": "active",
                 "language": "nl", "data": IDLE_DATA, "created_at": now, "updated_at": now}
                for pid in ids])
    db.dispose()


def resident_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def measure(url: str) -> dict[str, float]:
    """Start the engine on ``url``, run traffic of 100 people, and report memory."""
    started = time.perf_counter()
    gc.freeze()  # as bot/app.py does once started
    result = asyncio.run(closed_loop(url, 100, 3.0))
    gc.collect()
    return {"rss_kib": resident_kib(), "messages": result.messages,
            "seconds": time.perf_counter() - started}


def measure_in_fresh_process(url: str, key: str) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, "-m", "bench.memory", url, key], capture_output=True, text=True,
        check=True, timeout=600)
    measured: dict[str, float] = json.loads(output.stdout.strip().splitlines()[-1])
    return measured


_POSTGRES_BYTES = text(
    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND c.relkind = 'r'")


def database_bytes(url: str) -> int:
    """What the database takes on disk: SQLite's pages (with those still in the WAL), or the
    tables of the current schema on PostgreSQL with their indexes and TOAST."""
    db = create_db_engine(url)
    try:
        with db.connect() as connection:
            if db.dialect.name == "sqlite":
                return int(connection.exec_driver_sql(
                    "SELECT page_count * page_size FROM pragma_page_count(), "
                    "pragma_page_size()").scalar_one())
            return int(connection.execute(_POSTGRES_BYTES).scalar_one())
    finally:
        db.dispose()


def compare(url_for: dict[int, str], key: str) -> dict[int, dict[str, float]]:
    """``url_for`` maps a number of stored idle conversations to an empty database; ``key`` is
    the encryption key configured in this process. Also reports the database's size on disk
    once they are stored, before the traffic."""
    results = {}
    for count, url in url_for.items():
        upgrade_database(url)
        store_idle_conversations(url, count)
        stored = database_bytes(url)
        results[count] = {**measure_in_fresh_process(url, key), "database_bytes": stored}
    return results


if __name__ == "__main__":
    crypto.configure([sys.argv[2]])
    print(json.dumps(measure(sys.argv[1])))
