"""Several replicas on one PostgreSQL database, as separate processes, with Telegram by
webhook (a local Bot API server and a load balancer that picks any live replica)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.database import create_db_engine
from storage.models import Message
from tests.conftest import TEST_KEY
from tests.intake import INCIDENT_SUBMITTED
from tests.replicas import WEBHOOK_SECRET, ReplicaSet
from tests.telegram_api import FakeTelegram
from tests.webhook_pusher import WebhookPusher

pytestmark = pytest.mark.slow  # starts the bot as processes

EXPERT = 9001


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
