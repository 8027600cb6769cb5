"""Wiping the chat from the person's phone on Telegram (issue 19.1), through the real adapter
against the local Bot API server, which keeps each chat as the person's app shows it and
refuses, as Telegram does, to delete messages older than 48 hours."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.adapters.telegram import TelegramChannel
from bot.engine import Engine
from storage.models import Message
from tests.conftest import Running
from tests.harness import Bot, make_logic
from tests.telegram_api import FakeTelegram

USER = 5557777


async def say(tg: FakeTelegram, text: str, replies: int = 1) -> None:
    count = len(tg.to(USER))
    tg.user_says(USER, text)
    await tg.wait_for(USER, count + replies)


async def start_an_intake(tg: FakeTelegram) -> None:
    await say(tg, "hallo", replies=2)
    await say(tg, "1")
    await say(tg, "nee")
    await say(tg, "wethouder")


def stored(running: Running) -> list[Message]:
    with running.bot.session() as s:
        return list(s.scalars(select(Message).order_by(Message.id)))


async def test_wis_asks_first_then_removes_both_sides_and_leaves_one_neutral_line(
        running: Running) -> None:
    tg = running.telegram
    await start_an_intake(tg)
    assert "me: wethouder" in tg.chat(USER)
    await say(tg, "wis")
    question = tg.to(USER)[-1]
    assert question.text.startswith("Wilt u deze chat van uw telefoon halen?")
    assert [label for label, _ in question.buttons] == [
        "Ja, wis de chat", "Wis, en laat niets achter", "Nee"]
    count = len(tg.to(USER))
    tg.user_presses(USER, question, "Ja, wis de chat")
    await tg.wait_for(USER, count + 1)
    assert tg.chat(USER) == ["bot: Dit gesprek is leeggemaakt."], \
        "every message of the bot and of the person is gone, one neutral line stays"
    # What the person told stays with the team, on the server.
    kept = stored(running)
    assert any(m.direction == "in" and m.body.get("text") == "wethouder" for m in kept)
    # The bot forgets the ids with its next write (delivery reports go with the next batch).
    await tg.wait_until(lambda: all(m.platform_refs is None for m in stored(running)))
    # Later the person goes on where they were.
    await say(tg, "hallo", replies=2)
    assert tg.to(USER)[-2].text.startswith("Welkom terug. We gaan verder")
    assert tg.to(USER)[-1].text.startswith("Voor welke overheid")


async def test_the_quick_exit_word_removes_everything_at_once(running: Running) -> None:
    tg = running.telegram
    await start_an_intake(tg)
    before = len(tg.to(USER))
    tg.user_says(USER, "weg")
    await tg.wait_until(lambda: tg.chat(USER) == [])
    await running.bot.engine.drain()
    assert tg.chat(USER) == [], "no question, no last message"
    assert len(tg.to(USER)) == before, "nothing was sent"
    assert "deleteMessages" in tg.calls


async def test_messages_older_than_48_hours_stay_and_the_person_is_told_how_to_remove_them(
        running: Running) -> None:
    tg = running.telegram
    await start_an_intake(tg)
    old = len(tg.chat(USER))
    tg.age(USER, hours=50)
    await say(tg, "gemeente")
    count = len(tg.to(USER))
    tg.user_says(USER, "weg")
    await tg.wait_for(USER, count + 1)
    shown = tg.chat(USER)
    assert len(shown) == old + 1, "the old messages stay, everything newer is gone"
    assert shown[-1] == (f"bot: Dit gesprek is leeggemaakt, op {old} berichten na: die kon ik "
                         "niet meer weghalen. Haal ze zelf weg: houd een bericht ingedrukt en "
                         "kies Verwijderen. Of verwijder het hele gesprek in uw app.")
    assert "me: gemeente" not in shown and "me: weg" not in shown
    assert running.metrics.wipe_left.labels("telegram")._value.get() == old


async def test_saying_no_keeps_the_chat(running: Running) -> None:
    tg = running.telegram
    await start_an_intake(tg)
    await say(tg, "/wis")
    await say(tg, "nee", replies=2)
    assert tg.to(USER)[-2].text == "Goed, de chat blijft staan. We gaan verder."
    assert "me: wethouder" in tg.chat(USER) and tg.deleted == []


@pytest.fixture
async def flooded(sqlite_url: str) -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    """The real adapter with a tight flood limit, as a person typing in panic meets it."""
    telegram = FakeTelegram()
    await telegram.start()
    channel = TelegramChannel(telegram.token, base_url=telegram.base_url, poll_timeout=1)
    bot = Bot(sqlite_url)
    bot.engine = Engine(bot.db, make_logic(), max_backoff_seconds=0.2,
                        flood_limit="3/30 seconds")
    await bot.engine.start({"telegram": channel})
    await channel.start(bot.engine.handle)
    telegram.settle = bot.engine.drain
    try:
        yield telegram, bot
    finally:
        await channel.stop()
        await bot.engine.stop()
        await telegram.stop()


async def test_the_quick_exit_works_past_the_flood_limit(
        flooded: tuple[FakeTelegram, Bot]) -> None:
    tg, bot = flooded
    for text in ("hallo", "1", "nee", "wethouder", "gemeente", "Ergenshuizen"):
        tg.user_says(USER, text)
    await tg.wait_until(lambda: any("veel berichten" in m.text for m in tg.to(USER)))
    await bot.engine.drain()
    assert tg.chat(USER), "the chat is full of messages"
    tg.user_says(USER, "weg")
    await tg.wait_until(lambda: tg.chat(USER) == [])
    await bot.engine.drain()
    assert tg.chat(USER) == []


