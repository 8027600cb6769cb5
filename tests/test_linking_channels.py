"""One case across channels, as a new user would try it (issue 19.2): the bot as a process with
Telegram (the local Bot API server) and Matrix (a real Synapse). A person starts on Telegram,
asks for a code, sends it from Matrix and goes on there; a wipe then clears both chats; an
unlink gives the Matrix account a fresh start."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from tests.bot_process import both_channels, start_bot, stop_bot
from tests.matrix_person import MatrixPerson
from tests.synapse import Synapse
from tests.telegram_api import FakeTelegram

pytestmark = pytest.mark.slow  # starts the bot as a process

PERSON = 777


async def test_start_on_telegram_go_on_on_matrix(telegram: FakeTelegram, synapse: Synapse,
                                                 tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    bot_id = synapse.register(f"bot{suffix}", "bot-pw")
    person_id = synapse.register(f"p{suffix}", "pw")
    process = await start_bot(tmp_path / "data", **both_channels(
        telegram.token, telegram.base_url, synapse.url, bot_id))
    matrix = MatrixPerson(synapse.url, person_id, "pw", tmp_path / "person")
    await matrix.start()

    async def on_telegram(text: str, replies: int = 1) -> list[str]:
        before = len(telegram.to(PERSON))
        telegram.user_says(PERSON, text)
        sent = await telegram.wait_for(PERSON, before + replies, within=30)
        return [m.text for m in sent[before:]]

    try:
        await telegram.wait_until(lambda: "getUpdates" in telegram.calls, within=30)
        await on_telegram("hallo", 2)
        await on_telegram("1")
        await on_telegram("nee")
        asked, again = await on_telegram("koppel", 2)
        assert again.startswith("Wat is uw functie?"), "then the question again"
        match = re.search(r"Stuur daar binnen 10 minuten: koppel (\d{3} \d{3})", asked)
        assert match, asked
        await matrix.open_chat_with(bot_id)
        joined, question = await matrix.exchange(f"koppel {match.group(1)}", replies=2)
        assert joined.startswith("Gelukt: dit account hoort nu bij uw melding.")
        assert question.startswith("Wat is uw functie?"), "the intake goes on where it was"
        await telegram.wait_until(lambda: "ook gekoppeld aan een ander account"
                                  in telegram.to(PERSON)[-1].text, within=30)
        (next_question,) = await matrix.exchange("wethouder")
        assert next_question.startswith("Voor welke overheid")

        # A wipe from Matrix clears the chats of both accounts.
        (confirm,) = await matrix.exchange("wis")
        assert "Ja, wis de chat" in confirm
        (notice,) = await matrix.exchange("2")  # "Wis, en laat niets achter"
        await telegram.wait_until(lambda: telegram.chat(PERSON) == [], within=30)
        # On Matrix, in a room the person made, only the bot's messages could go: the four
        # of the person here are counted, with how to remove them.
        assert notice.startswith("Dit gesprek is leeggemaakt, op 4 berichten na")
        assert [line for line in await matrix.chat() if line.startswith("bot:")] == [
            f"bot: {notice}"]

        parted, = await matrix.exchange("ontkoppel")
        assert parted.startswith("Dit account hoort niet meer bij uw melding.")
        welcome, menu = await matrix.exchange("hallo", replies=2)
        assert welcome.startswith("Welkom") and "1. Een incident melden" in menu
        resumed = await on_telegram("hallo", 2)
        assert resumed[-1].startswith("Voor welke overheid"), \
            "the report stayed with the Telegram account, at the question it was"
    finally:
        await matrix.stop()
        code, stderr = await stop_bot(process)
    assert code == 0, stderr
    assert "wethouder" not in stderr and match.group(1) not in stderr, "nothing typed is logged"
