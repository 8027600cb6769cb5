"""The Matrix sync runs on one replica at a time (a lease); when that replica is killed,
another takes the lease and the chat goes on, with nothing lost and nothing sent twice."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.database import create_db_engine
from storage.models import Message
from tests.conftest import TEST_KEY
from tests.intake import INCIDENT_SUBMITTED
from tests.matrix_person import MatrixPerson
from tests.replicas import ReplicaProcess, ReplicaSet
from tests.synapse import Synapse

pytestmark = pytest.mark.slow  # a homeserver and the bot as processes


def lease_holders(replicas: list[ReplicaProcess]) -> list[str]:
    holders = []
    for replica in replicas:
        health = replica.health() if replica.running else None
        if health is not None:
            info = health["replica"]
            assert isinstance(info, dict)
            if "matrix" in info["leases"]:
                holders.append(replica.name)
    return holders


async def wait_for_holder(replicas: list[ReplicaProcess], within: float = 30) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        holders = lease_holders(replicas)
        assert len(holders) <= 1, f"one lease holder at a time: {holders}"
        if holders:
            return holders[0]
        assert loop.time() < deadline, "nobody took the Matrix lease"
        await asyncio.sleep(0.2)


async def test_the_matrix_lease_moves_to_another_replica_when_its_holder_dies(
        synapse: Synapse, tmp_path: Path, postgres_url: str) -> None:
    suffix = uuid.uuid4().hex[:8]
    bot_id = synapse.register(f"bot{suffix}", "bot-pw")
    person_id = synapse.register(f"person{suffix}", "pw")
    # One data directory for all: the bot's Matrix device (its key store and sync token) is
    # a shared volume that moves with the lease.
    replicas = ReplicaSet(tmp_path / "data", {
        "WEERBAAR_CHANNELS": "matrix", "WEERBAAR_MATRIX_HOMESERVER": synapse.url,
        "WEERBAAR_MATRIX_USER_ID": bot_id, "WEERBAAR_MATRIX_PASSWORD": "bot-pw",
        "WEERBAAR_DATABASE_URL": postgres_url, "WEERBAAR_ENCRYPTION_KEYS": TEST_KEY,
        "WEERBAAR_FLOOD_LIMIT": "", "WEERBAAR_REPLICA_HEARTBEAT_SECONDS": "0.5",
        "WEERBAAR_REPLICA_STALLED_SECONDS": "3"})
    members = [replicas.add(name, "worker,matrix") for name in ("a", "b")]
    person = MatrixPerson(synapse.url, person_id, "pw", tmp_path / "person")
    try:
        for replica in members:
            await replicas.start(replica)
        holder = await wait_for_holder(members)
        await person.start()
        await person.open_chat_with(bot_id)
        welcome, _menu = await person.exchange("hallo", replies=2)
        assert welcome.startswith("Welkom.")
        lines = INCIDENT_SUBMITTED[1:]
        half = len(lines) // 2
        for line in lines[:half]:
            await person.exchange(line, within=30)
        loop = asyncio.get_running_loop()
        killed_at = loop.time()
        await replicas.kill(next(r for r in members if r.name == holder))
        taker = await wait_for_holder(members, within=20)
        assert taker != holder
        for line in lines[half:]:
            await person.exchange(line, within=30)  # answered by the replica that took over
        took = loop.time() - killed_at
        await replicas.start(next(r for r in members if r.name == holder))
        await asyncio.sleep(2)
        assert lease_holders(members) == [taker], "the restarted replica waits its turn"
    finally:
        await person.stop()
        logs = await replicas.stop_all()
        await replicas.kill_all()
    assert all(code == 0 for _, code, _ in logs), logs
    db = create_db_engine(postgres_url)
    with Session(db) as session:
        rows = list(session.scalars(select(Message).where(Message.address == person_id)
                                    .order_by(Message.id)))
    db.dispose()
    assert [m.body.get("text") for m in rows if m.direction == "in"] == ["hallo", *lines]
    outbound = [m.body["text"] for m in rows if m.direction == "out"]
    # Every reply once, in order (Matrix drops a resend); options come as a list under it.
    assert len(person.received) == len(outbound)
    assert all(got.startswith(sent) for got, sent in zip(person.received, outbound, strict=True))
    print(f"the second half of the intake took {took:.1f} s after the kill")
