"""After a restart (or when another replica takes the Matrix lease over), the bot writes in a
room that had no news since its saved sync token: a check-in, an expert's answer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.adapters.matrix import MatrixChannel
from bot.events import InboundEvent, OutboundMessage
from tests.matrix_person import MatrixPerson
from tests.synapse import Synapse

pytestmark = pytest.mark.slow


async def test_after_a_restart_the_bot_writes_in_a_room_without_news(
        synapse: Synapse, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    bot_id = synapse.register(f"bot{suffix}", "bot-pw")
    person_id = synapse.register(f"p{suffix}", "pw")
    store = tmp_path / "bot-store"
    handled: list[InboundEvent] = []

    async def handler(event: InboundEvent,
                      on_committed: Callable[[bool], None] | None = None) -> None:
        handled.append(event)
        if on_committed is not None:
            on_committed(True)

    first = MatrixChannel(synapse.url, bot_id, store, password="bot-pw")
    await first.start(handler)
    person = MatrixPerson(synapse.url, person_id, "pw", tmp_path / "person")
    await person.start()
    try:
        await person.open_chat_with(bot_id)
        await person.say("hallo")
        for _ in range(100):
            if handled:
                break
            await asyncio.sleep(0.1)
        assert [event.text for event in handled] == ["hallo"]
        await asyncio.sleep(0.5)  # the sync token is saved past it
        await first.stop()
        again = MatrixChannel(synapse.url, bot_id, store, password="bot-pw")
        await again.start(handler)
        try:
            await again.send(OutboundMessage(id=1, channel="matrix", recipient=person_id,
                                             text="Hoe gaat het nu met u?"))
            assert await person.wait_for(1) == ["Hoe gaat het nu met u?"]
        finally:
            await again.stop()
    finally:
        await person.stop()
