"""A flood from one person gets one calm reply, is not handled, and slows nobody else down."""

from __future__ import annotations

import asyncio
import time

from tests.harness import Bot, texts


async def test_a_flood_gets_one_calm_reply_and_others_are_not_slowed(sqlite_url: str) -> None:
    async with Bot(sqlite_url, flood_limit="5/10 seconds") as bot:
        flood = [bot.say(f"bericht {i}", who="flooder") for i in range(60)]
        started = time.perf_counter()
        other = asyncio.create_task(bot.say("hallo", who="someone-else"))
        await asyncio.gather(*flood)
        other_replies = await other
        other_took = time.perf_counter() - started
        notices = [m for m in bot.channel.to("flooder")
                   if "veel berichten kort na elkaar" in m.text]
        assert len(notices) == 1, "one calm reply for the whole flood"
        assert "many messages" in notices[0].text, "in English too"
        assert other_replies[0].text.startswith("Welkom."), "someone else is answered"
        assert other_took < 5
    inbound = [m for m in bot.messages("flooder") if m.direction == "in"]
    assert len(inbound) == 5, "past the limit, messages are not handled"


async def test_danger_words_always_get_through_a_flood(sqlite_url: str) -> None:
    async with Bot(sqlite_url, flood_limit="3/10 seconds") as bot:
        for i in range(5):
            await bot.say(f"bericht {i}")
        replies = await bot.say("hij staat met een mes voor de deur")
        assert "Bel direct 112" in texts(replies)
    assert bot.cases()[0].urgent


async def test_asking_for_a_person_always_gets_through_a_flood(sqlite_url: str) -> None:
    async with Bot(sqlite_url, flood_limit="3/10 seconds") as bot:
        for i in range(5):
            await bot.say(f"bericht {i}")
        replies = await bot.say("mens")
        assert "070-373 83 14" in texts(replies)


async def test_after_the_window_the_person_is_heard_again(sqlite_url: str) -> None:
    async with Bot(sqlite_url, flood_limit="2/1 second") as bot:
        await bot.script(["hallo", "1", "nee"])
        assert bot.conversation().state == "safety", "the third message was not handled"
        await asyncio.sleep(1.1)
        replies = await bot.say("nee")
        assert "Wat is uw functie?" in texts(replies)
