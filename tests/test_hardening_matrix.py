"""Matrix on a real Synapse when things go wrong: the homeserver forgets the bot's access
token, the database cannot store a message, and logs at DEBUG."""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from pathlib import Path

import pytest
from nio import AsyncClient, LoginResponse
from sqlalchemy import text

from bot.adapters.matrix import MatrixChannel
from tests.bot_process import start_bot, stop_bot
from tests.harness import Bot
from tests.matrix_person import MatrixPerson, bot_and_person
from tests.synapse import Synapse

pytestmark = pytest.mark.slow  # starts the bot as a process


def log_out(synapse: Synapse, access_token: str) -> None:
    """What an admin's "log out this device" (or a password change) does to the bot."""
    request = urllib.request.Request(
        f"{synapse.url}/_matrix/client/v3/logout", data=b"{}", method="POST",
        headers={"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10):
        pass


async def wait_until(condition: object, within: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


def accounts(synapse: Synapse) -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return synapse.register(f"bot{suffix}", "bot-pw"), synapse.register(f"p{suffix}", "pw")


async def test_a_revoked_token_with_a_password_logs_in_again_as_a_new_device(
        synapse: Synapse, sqlite_url: str, tmp_path: Path) -> None:
    async with bot_and_person(synapse, sqlite_url, tmp_path) as pair:
        credentials = tmp_path / "bot-store" / "credentials.json"
        await pair.person.exchange("hallo", replies=2)
        before = json.loads(credentials.read_text())
        log_out(synapse, before["access_token"])
        replies = await pair.person.exchange("1", within=60)
        assert "bent u nu in gevaar?" in replies[0], "answered after logging in again"
        after = json.loads(credentials.read_text())
        assert after["device_id"] != before["device_id"]
        assert pair.channel.healthy()


async def test_a_revoked_access_token_stops_matrix_clearly(
        synapse: Synapse, sqlite_url: str, tmp_path: Path) -> None:
    bot_id, _ = accounts(synapse)
    login = AsyncClient(synapse.url, bot_id)
    response = await login.login("bot-pw", device_name="given-token")
    assert isinstance(response, LoginResponse)
    await login.close()
    channel = MatrixChannel(synapse.url, bot_id, tmp_path / "bot-store",
                            access_token=response.access_token)
    bot = Bot(sqlite_url, channel=None)
    await bot.engine.start({"matrix": channel})
    await channel.start(bot.engine.handle)
    try:
        assert channel.healthy()
        log_out(synapse, response.access_token)
        await asyncio.wait_for(channel.wait_closed(), timeout=60)
        assert not channel.healthy(), "/healthz is not green while Matrix cannot sync"
    finally:
        await channel.stop()
        await bot.engine.stop()
        bot.db.dispose()


async def test_a_message_that_cannot_be_stored_comes_again_on_matrix(
        synapse: Synapse, sqlite_url: str, tmp_path: Path) -> None:
    async with bot_and_person(synapse, sqlite_url, tmp_path) as pair:
        bot, person = pair.bot, pair.person
        with bot.db.begin() as connection:
            connection.execute(text("ALTER TABLE messages RENAME TO messages_away"))
        (sorry,) = await person.exchange("hallo", replies=1)
        assert "niet bewaren" in sorry and "wel bewaard" not in sorry
        with bot.db.begin() as connection:
            connection.execute(text("ALTER TABLE messages_away RENAME TO messages"))
        await person.wait_for(3, within=60)
        assert person.received[1].startswith(("Welkom.", "Sorry, er ging bij mij iets mis. Uw")), \
            "synced again and answered"
        assert person.received.count(sorry) == 1


MARKERS = ("Vertrouwelijk-Zuidhorn", "Dreiger-Klaassen")


async def test_debug_logs_over_matrix_hold_no_words_and_no_secret(
        synapse: Synapse, tmp_path: Path) -> None:
    bot_id, person_id = accounts(synapse)
    process = await start_bot(tmp_path, WEERBAAR_MATRIX_HOMESERVER=synapse.url,
                              WEERBAAR_MATRIX_USER_ID=bot_id, WEERBAAR_MATRIX_PASSWORD="bot-pw",
                              WEERBAAR_CHANNELS="matrix", WEERBAAR_LOG_LEVEL="DEBUG")
    person = MatrixPerson(synapse.url, person_id, "pw", tmp_path / "person")
    await person.start()
    try:
        await person.open_chat_with(bot_id)
        await person.exchange("hallo", replies=2, within=60)
        for line in ("1", "nee", "raadslid", "gemeente", MARKERS[0], "bedreiging", MARKERS[1]):
            await person.exchange(line)
    finally:
        await person.stop()
        code, stderr = await stop_bot(process)
    assert code == 0
    assert "turn flow=incident" in stderr
    token = json.loads((tmp_path / "matrix" / "credentials.json").read_text())["access_token"]
    for secret in (*MARKERS, "bot-pw", token):
        assert secret not in stderr


async def test_a_text_longer_than_an_event_may_be_arrives_in_pieces(
        synapse: Synapse, sqlite_url: str, tmp_path: Path) -> None:
    from bot.events import OutboundMessage

    async with bot_and_person(synapse, sqlite_url, tmp_path) as pair:
        person = pair.person
        await person.exchange("hallo", replies=2)
        long_text = " ".join(f"woord{i}" for i in range(12_000))  # ~100,000 characters
        await pair.channel.send(OutboundMessage(id=999_001, channel="matrix",
                                                recipient=person.client.user_id or "",
                                                text=long_text))
        await person.wait_until(lambda: " ".join(person.received[2:]) == long_text, within=60)
        assert len(person.received) - 2 > 1
