"""Erasure that really erases: after `verwijder`, the raw database files (SQLite's database,
its write-ahead log and index) hold nothing that identifies the person or that decrypts to
what they wrote, and no row points to them, even when the last reply could not be delivered."""

from __future__ import annotations

import asyncio
import itertools
import re
from pathlib import Path

from cryptography.fernet import InvalidToken
from sqlalchemy import select

from bot.channel import PermanentDeliveryError
from bot.events import InboundEvent
from storage import crypto
from storage.models import ProcessedInbound
from tests.harness import Bot

ERASED, STAYS = "5551234", "5559999"
SECRET_WORDS = ("Ergenshuizen-Oost", "dreigbrief-van-Jansen", "kinderen-op-school")
_TOKEN = re.compile(rb"gAAAAA[A-Za-z0-9_=-]{20,}")
_numbers = itertools.count(1000)


async def say(bot: Bot, who: str, text: str) -> None:
    """As Telegram names a message: by the chat and a number."""
    await bot.send(InboundEvent("test", who, f"msg:{who}:{next(_numbers)}", text=text))


async def intake(bot: Bot, who: str, words: tuple[str, ...]) -> None:
    for line in ["hallo", "1", "nee", "raadslid", "gemeente", words[0], "bedreiging",
                 f"{words[1]} schreef dat hij weet waar mijn {words[2]} zijn.", "gisteren"]:
        await say(bot, who, line)


def raw_files(database: Path) -> bytes:
    return b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))


def decrypted(raw: bytes) -> list[str]:
    found = []
    for token in set(_TOKEN.findall(raw)):
        try:
            found.append(crypto.cipher().decrypt(token).decode("utf-8"))
        except InvalidToken:
            continue  # a piece of a token, cut by a page boundary
    return found


async def test_after_erasure_the_raw_files_hold_nothing_of_the_person(tmp_path: Path) -> None:
    database = tmp_path / "weerbaar.db"
    url = f"sqlite:///{database}"
    from storage.database import upgrade_database

    upgrade_database(url)
    async with Bot(url) as bot:
        await intake(bot, ERASED, SECRET_WORDS)
        await intake(bot, STAYS, ("Andersdorp", "buurman", "ramen"))
        for line in ("nog iets", "en nog iets", "terug", "ja"):
            await say(bot, ERASED, line)
        before = raw_files(database)
        assert ERASED.encode() in before or any(SECRET_WORDS[0] in t for t in decrypted(before))
        bot.channel.failures = [PermanentDeliveryError("forbidden")]  # blocked the bot at once
        await say(bot, ERASED, "verwijder")
        await say(bot, ERASED, "ja")
        deadline = asyncio.get_running_loop().time() + 10
        while bot.messages(ERASED):  # the failed last reply is written off with the next batch
            assert asyncio.get_running_loop().time() < deadline, "the failed reply stayed"
            await asyncio.sleep(0.05)
        with bot.session() as s:
            stored_ids = [p.platform_message_id for p in s.scalars(select(ProcessedInbound))]
        # While the bot runs (the write-ahead log is in use); the checkpoint that empties the
        # log follows the commit that deleted the reply, so give it a moment.
        after = raw_files(database)
        while ERASED.encode() in after and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
            after = raw_files(database)
    assert ERASED.encode() not in after, "no trace of the chat id, not even in the WAL"
    plain = decrypted(after)
    assert not any(word in text for text in plain for word in SECRET_WORDS)
    assert any("Andersdorp" in text for text in plain), "the other person's data is there"
    assert stored_ids and all(i.startswith("h:") for i in stored_ids), \
        "handled ids are kept as keyed hashes, for anyone"
    assert not any(STAYS in i for i in stored_ids)


async def test_a_resend_is_still_recognised_with_hashed_ids(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        event = InboundEvent("test", ERASED, f"msg:{ERASED}:1", text="hallo")
        first = await bot.send(event)
        again = await bot.send(event)
    assert first and again == [], "a platform's resend is not answered twice"
