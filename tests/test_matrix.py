"""The Matrix channel on a real Synapse homeserver on loopback (started once per test run)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from nio import AsyncClient, LoginResponse

from bot.adapters.matrix import MatrixChannel
from storage.database import upgrade_database
from tests.harness import Bot
from tests.intake import INCIDENT, intake
from tests.matrix_person import MatrixPerson
from tests.synapse import Synapse


@dataclass
class Accounts:
    bot_id: str
    bot_password: str
    person_id: str
    person_password: str


@pytest.fixture
def accounts(synapse: Synapse) -> Accounts:
    suffix = uuid.uuid4().hex[:8]
    return Accounts(synapse.register(f"weerbaar{suffix}", "bot-pw"), "bot-pw",
                    synapse.register(f"raadslid{suffix}", "person-pw"), "person-pw")


class BotOnMatrix:
    """The engine with the real Matrix channel; can be stopped and started again."""

    def __init__(self, synapse: Synapse, accounts: Accounts, url: str, store: Path) -> None:
        self.synapse, self.accounts, self.url, self.store = synapse, accounts, url, store
        self.bot: Bot | None = None
        self.channel: MatrixChannel | None = None

    async def start(self) -> None:
        self.channel = MatrixChannel(self.synapse.url, self.accounts.bot_id, self.store,
                                     password=self.accounts.bot_password)
        self.bot = Bot(self.url, channel=None)
        await self.bot.engine.start({"matrix": self.channel})
        await self.channel.start(self.bot.engine.handle)

    async def stop(self) -> None:
        assert self.bot is not None and self.channel is not None
        await self.channel.stop()
        await self.bot.engine.stop()
        self.bot.db.dispose()


@pytest.fixture
async def bot_on_matrix(synapse: Synapse, accounts: Accounts, sqlite_url: str,
                        tmp_path: Path) -> AsyncIterator[BotOnMatrix]:
    running = BotOnMatrix(synapse, accounts, sqlite_url, tmp_path / "bot-store")
    await running.start()
    try:
        yield running
    finally:
        if running.channel is not None and not running.channel._closed.is_set():
            await running.stop()


@pytest.fixture
async def person(synapse: Synapse, accounts: Accounts,
                 tmp_path: Path) -> AsyncIterator[MatrixPerson]:
    someone = MatrixPerson(synapse.url, accounts.person_id, accounts.person_password,
                           tmp_path / "person-store")
    await someone.start()
    try:
        yield someone
    finally:
        await someone.stop()


async def test_a_whole_intake_in_a_direct_message_room(
        bot_on_matrix: BotOnMatrix, person: MatrixPerson, accounts: Accounts) -> None:
    await person.open_chat_with(accounts.bot_id)
    welcome, menu = await person.exchange("hallo", replies=2)
    assert welcome.startswith("Welkom.")
    assert "1. Een incident melden\n2. Onrust in mijn gemeente of organisatie" in menu
    answers = {**INCIDENT, "what": "belaging",
               "description": "Hij staat elke avond bij de school van mijn kinderen.",
               "how": "in het echt", "perpetrator": "ja", "help_wanted": "3, 4", "contact": "1"}
    for text in intake("incident", answers, until="summary")[1:]:
        await person.exchange(text)
    summary = person.received[-1]
    assert "• Gewenste hulp: Nazorg en steun, Beveiliging" in summary
    done = await person.exchange("ja")
    assert "Uw melding is doorgegeven" in done[0]
    assert bot_on_matrix.bot is not None
    (case,) = bot_on_matrix.bot.cases(accounts.person_id)
    assert case.status == "submitted"
    assert case.intake["answers"]["what"] == {"option": "stalking"}


async def test_an_edited_message_is_not_taken_as_the_next_answer(
        bot_on_matrix: BotOnMatrix, person: MatrixPerson, accounts: Accounts) -> None:
    await person.open_chat_with(accounts.bot_id)
    await person.exchange("hallo", replies=2)
    await person.exchange("1")
    answered = await person.say("nee")
    await person.wait_for(4)
    before = len(person.received)
    await person.edit(answered, "raadslid")
    replies = await person.wait_for(before + 2)
    assert replies[before].startswith("U heeft een eerder bericht aangepast.")
    assert "Wat is uw functie?" in replies[-1], "the same question, not the next"
    assert bot_on_matrix.bot is not None
    conversation = bot_on_matrix.bot.conversation(accounts.person_id)
    assert "incident.role" not in conversation.data["answers"]
    inbound = [m.body["text"] for m in bot_on_matrix.bot.messages(accounts.person_id)
               if m.direction == "in"]
    assert inbound[-1] == "raadslid", "kept as written, without the '* ' of the fallback"


async def test_every_kind_of_message_gets_an_answer_and_a_location_is_kept(
        bot_on_matrix: BotOnMatrix, person: MatrixPerson, accounts: Accounts) -> None:
    await person.open_chat_with(accounts.bot_id)
    await person.exchange("hallo", replies=2)
    await person.exchange("1")
    # A client asking to verify the bot is not answered; /me is read as text.
    await person.send_content({"msgtype": "m.key.verification.request", "body": "verify",
                               "from_device": "X", "methods": ["m.sas.v1"],
                               "to": accounts.bot_id})
    await person.send_content({"msgtype": "m.emote", "body": "nee"})
    received = await person.wait_for(4)
    assert "Wat is uw functie?" in received[3], "the emote was the answer, nothing else said"
    await person.send_content({"msgtype": "m.location", "body": "Locatie",
                               "geo_uri": "geo:52.0907,5.1214;u=20"})
    received = await person.wait_for(6)
    assert received[4].startswith("Dank u. Ik heb uw locatie bewaard bij uw melding.")
    assert "Wat is uw functie?" in received[5]
    await person.send_content({"body": "duim", "url": "mxc://localhost/sticker", "info": {}},
                              event_type="m.sticker")
    received = await person.wait_for(8)
    assert "Dit soort bericht kan ik niet lezen" in received[6]
    await person.send_content({"msgtype": "org.example.poll", "body": "Wat vindt u?"})
    received = await person.wait_for(10)
    assert "Dit soort bericht kan ik niet lezen" in received[8]
    assert "Wat is uw functie?" in received[9]
    # A reaction or another app's signal is not answered; a poll is (its own event type).
    await person.send_content({"m.relates_to": {"rel_type": "m.annotation", "key": "👍",
                                                "event_id": person.received_from[-1][0]}},
                              event_type="m.reaction")
    await person.send_content({"state": "ringing"}, event_type="org.example.call.signal")
    await person.send_content({"org.matrix.msc3381.poll.start": {"question": {"body": "?"}},
                               "body": "Wat vindt u?"},
                              event_type="org.matrix.msc3381.poll.start")
    received = await person.wait_for(12)
    assert "Dit soort bericht kan ik niet lezen" in received[10], "the poll, not the reaction"
    assert "Dit soort bericht kan ik niet lezen" in received[8]
    assert "Wat is uw functie?" in received[9]
    await person.send_content({"msgtype": "m.notice", "body": "raadslid"})
    received = await person.wait_for(13)
    assert "Voor welke overheid doet u dit werk?" in received[12]
    assert bot_on_matrix.bot is not None
    conversation = bot_on_matrix.bot.conversation(accounts.person_id)
    assert conversation.data["answers"]["incident.role"] == {"option": "raadslid"}
    (case,) = bot_on_matrix.bot.cases(accounts.person_id)
    kept = [m.body for m in bot_on_matrix.bot.messages(accounts.person_id)
            if m.case_id == case.id]
    assert kept == [{"location": {"latitude": 52.0907, "longitude": 5.1214}}]


async def test_a_reply_with_a_quote_is_answered_as_what_the_person_wrote(
        bot_on_matrix: BotOnMatrix, person: MatrixPerson, accounts: Accounts) -> None:
    await person.open_chat_with(accounts.bot_id)
    await person.exchange("hallo", replies=2)
    await person.exchange("1")
    assert "1. Ja\n2. Nee" in person.received[-1]
    before = len(person.received)
    await person.reply("nee")  # the quote holds "Ja" too
    replies = await person.wait_for(before + 1)
    assert "Wat is uw functie?" in replies[before]
    assert bot_on_matrix.bot is not None
    inbound = [m.body["text"] for m in bot_on_matrix.bot.messages(accounts.person_id)
               if m.direction == "in"]
    assert inbound[-1] == "nee"


async def test_a_restart_keeps_the_device_and_does_not_replay(
        bot_on_matrix: BotOnMatrix, person: MatrixPerson, accounts: Accounts) -> None:
    await person.open_chat_with(accounts.bot_id)
    await person.exchange("hallo", replies=2)
    await person.exchange("1")
    assert bot_on_matrix.channel is not None
    device = bot_on_matrix.channel._client.device_id
    await bot_on_matrix.stop()

    await person.say("nee")  # written while the bot is down
    await bot_on_matrix.start()
    answer = await person.wait_for(4)
    assert "Wat is uw functie?" in answer[3], "the message sent while down is answered"
    await asyncio.sleep(2)
    assert len(person.received) == 4, "nothing old was replayed"
    assert bot_on_matrix.channel._client.device_id == device, "still the same device"
    credentials = json.loads((bot_on_matrix.store / "credentials.json").read_text())
    assert credentials["device_id"] == device
    assert bot_on_matrix.bot is not None
    inbound = [m for m in bot_on_matrix.bot.messages(accounts.person_id) if m.direction == "in"]
    assert [m.body["text"] for m in inbound] == ["hallo", "1", "nee"]


async def test_an_encrypted_room_works(bot_on_matrix: BotOnMatrix, accounts: Accounts,
                                      synapse: Synapse, tmp_path: Path) -> None:
    someone = MatrixPerson(synapse.url, accounts.person_id, accounts.person_password,
                           tmp_path / "encrypted-person", encryption=True)
    await someone.start()
    try:
        await someone.open_chat_with(accounts.bot_id, encrypted=True)
        room = someone.client.rooms[someone.room_id]
        assert room.encrypted
        welcome, _menu = await someone.exchange("hallo", replies=2)
        assert welcome.startswith("Welkom."), "the person can read the bot's encrypted reply"
        replies = await someone.exchange("1")
        assert "bent u nu in gevaar?" in replies[0], "the bot can read the person's message"
    finally:
        await someone.stop()
    assert bot_on_matrix.bot is not None
    inbound = [m for m in bot_on_matrix.bot.messages(accounts.person_id) if m.direction == "in"]
    assert [m.body["text"] for m in inbound] == ["hallo", "1"]


async def test_login_with_an_access_token(synapse: Synapse, accounts: Accounts,
                                          tmp_path: Path, person: MatrixPerson) -> None:
    login = AsyncClient(synapse.url, accounts.bot_id)
    response = await login.login(accounts.bot_password, device_name="made-by-operator")
    assert isinstance(response, LoginResponse)
    await login.close()
    channel = MatrixChannel(synapse.url, accounts.bot_id, tmp_path / "token-store",
                            access_token=response.access_token)
    url = f"sqlite:///{tmp_path / 'token.db'}"
    upgrade_database(url)
    bot = Bot(url)
    await bot.engine.start({"matrix": channel})
    await channel.start(bot.engine.handle)
    try:
        assert channel._client.device_id == response.device_id, "the token's own device"
        await person.open_chat_with(accounts.bot_id)
        welcome, _ = await person.exchange("hallo", replies=2)
        assert welcome.startswith("Welkom.")
    finally:
        await channel.stop()
        await bot.engine.stop()
