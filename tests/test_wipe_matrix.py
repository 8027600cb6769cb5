"""Wiping the chat from the person's device on a real Synapse (issue 19.1): the bot redacts its
own messages, and the person's where the room's power levels let it; what it may not remove,
it says, with how to remove it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.matrix_person import bot_and_person
from tests.synapse import Synapse

INTAKE = [("hallo", 2), ("1", 1), ("nee", 1), ("wethouder", 1)]


async def test_in_a_room_the_person_made_the_bot_removes_its_own_and_names_the_rest(
        synapse: Synapse, sqlite_url: str, tmp_path: Path) -> None:
    async with bot_and_person(synapse, sqlite_url, tmp_path) as pair:
        person = pair.person
        for text, replies in INTAKE:
            await person.exchange(text, replies)
        (question,) = await person.exchange("wis")
        assert question.startswith("Wilt u deze chat van uw telefoon halen?")
        assert "1. Ja, wis de chat\n2. Wis, en laat niets achter\n3. Nee" in question
        (notice,) = await person.exchange("1")
        mine = len(INTAKE) + 2  # the intake, "wis" and "1": the bot may not redact them
        assert notice.startswith(f"Dit gesprek is leeggemaakt, op {mine} berichten na")
        shown = await person.chat()
        assert [line for line in shown if line.startswith("bot:")] == [f"bot: {notice}"], \
            "every earlier message of the bot is redacted"
        assert len([line for line in shown if line.startswith("me:")]) == mine


async def test_with_the_power_to_redact_the_quick_exit_leaves_nothing(
        synapse: Synapse, sqlite_url: str, tmp_path: Path) -> None:
    async with bot_and_person(synapse, sqlite_url, tmp_path, redact_level=0) as pair:
        person = pair.person
        for text, replies in INTAKE:
            await person.exchange(text, replies)
        sent = len(person.received)
        await person.say("weg")
        for _ in range(200):
            await asyncio.sleep(0.05)
            await pair.bot.engine.drain()
            if not await person.chat():
                break
        assert await person.chat() == [], "both sides redacted, no last message"
        assert len(person.received) == sent
        (case,) = pair.bot.cases(person.client.user_id)
        assert case.kind == "incident", "the report itself stays with the team"
