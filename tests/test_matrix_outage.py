"""Synapse stopped and started again in the middle of a conversation, with the bot running as a
process: nothing is lost, nothing is sent twice, and the person gets every reply in order."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.database import create_db_engine
from storage.models import Message
from tests.bot_process import start_bot, stop_bot
from tests.checkin_support import CHECKIN_HELLO
from tests.conftest import TEST_KEY
from tests.intake import INCIDENT_SUBMITTED
from tests.matrix_person import MatrixPerson
from tests.synapse import Synapse, start_synapse

pytestmark = pytest.mark.slow  # starts the bot as a process

CHECKIN_AFTER = 4.0


@pytest.fixture
def own_synapse(tmp_path: Path) -> Iterator[Synapse]:
    """A homeserver of this test's own, as it is stopped and started."""
    (tmp_path / "synapse").mkdir()
    server = start_synapse(tmp_path / "synapse")
    try:
        yield server
    finally:
        server.stop()


def _checkin_waits_undelivered(database: Path) -> bool:
    """The check-in fell due and its first message is in the outbox, not yet delivered."""
    with sqlite3.connect(database) as db:
        sent = db.execute("SELECT count(*) FROM checkins WHERE status = 'sent'").fetchone()[0]
        waiting = db.execute("SELECT count(*) FROM messages WHERE direction = 'out' "
                             "AND delivered_at IS NULL").fetchone()[0]
    return bool(sent and waiting)


async def _until(condition: object, within: float) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.1)


async def test_synapse_down_and_up_mid_conversation_loses_nothing(
        own_synapse: Synapse, tmp_path: Path) -> None:
    synapse = own_synapse
    bot_id = synapse.register("bot", "bot-pw")
    person_id = synapse.register("person", "pw")
    data = tmp_path / "data"
    process = await start_bot(
        data, WEERBAAR_CHANNELS="matrix", WEERBAAR_MATRIX_HOMESERVER=synapse.url,
        WEERBAAR_MATRIX_USER_ID=bot_id, WEERBAAR_MATRIX_PASSWORD="bot-pw",
        WEERBAAR_ENCRYPTION_KEYS=TEST_KEY, WEERBAAR_DELIVERY_MAX_BACKOFF_SECONDS="2",
        WEERBAAR_CHECKIN_PLANS=f'{{"incident": [{{"after": "{CHECKIN_AFTER:.0f}s"}}]}}',
        WEERBAAR_CHECKIN_HOURS="00:00-24:00", WEERBAAR_CHECKIN_DAYS="mon,tue,wed,thu,fri,sat,sun")
    person = MatrixPerson(synapse.url, person_id, "pw", tmp_path / "person")
    await person.start()
    try:
        await person.open_chat_with(bot_id)
        half = len(INCIDENT_SUBMITTED) // 2
        await person.exchange(INCIDENT_SUBMITTED[0], replies=2)  # the welcome and the menu
        for line in INCIDENT_SUBMITTED[1:half]:
            await person.exchange(line)
        synapse.stop()  # mid-intake
        await asyncio.sleep(2)
        synapse.start()
        for line in INCIDENT_SUBMITTED[half:]:
            await person.exchange(line, within=60)
        synapse.stop()  # the check-in falls due while the homeserver is away
        await _until(lambda: _checkin_waits_undelivered(data / "weerbaar.db"), within=30)
        synapse.start()
        await _until(lambda: any(CHECKIN_HELLO in text for text in person.received), within=90)
        for line in ["4", "goed", "nee", "ja"]:
            await person.exchange(line, within=60)
        await _until(lambda: "Dank u wel voor uw antwoorden" in person.received[-1], within=30)
    finally:
        await person.stop()
        code, stderr = await stop_bot(process)
    assert code == 0, stderr
    db = create_db_engine(f"sqlite:///{data / 'weerbaar.db'}")
    with Session(db) as session:
        rows = list(session.scalars(select(Message).where(Message.address == person_id)
                                    .order_by(Message.id)))
    db.dispose()
    inbound = [m.body.get("text") for m in rows if m.direction == "in"]
    assert inbound == [*INCIDENT_SUBMITTED, "4", "goed", "nee", "ja"], "each handled once"
    outbound = [m for m in rows if m.direction == "out"]
    assert all(m.delivered_at is not None for m in outbound)
    # What the person saw is what the bot wrote down, in order, each once.
    assert person.received == [_as_shown(m.body) for m in outbound]


def _as_shown(body: dict[str, Any]) -> str:
    """A message as Matrix shows it: the options of a question as numbered lines under it."""
    options: list[list[str]] = body.get("options") or []
    lines = [f"{n}. {label}" for n, (_, label) in enumerate(options, start=1)]
    text = str(body["text"])
    return f"{text}\n\n" + "\n".join(lines) if lines else text
