"""Floods of danger words and very long texts: danger is still answered at once, but repeats
collapse (one 112 advice a short while; a burst reaches the expert joined), nothing is lost,
and a very long text reaches the expert shortened, whole on request."""

from __future__ import annotations

import asyncio
import uuid

from bot.events import InboundEvent
from tests.harness import Bot, texts
from tests.intake import INCIDENT_SUBMITTED
from tests.routing_support import make_router


async def burst(bot: Bot, lines: list[str], who: str = "alice") -> None:
    """All at once, as a getUpdates batch of a Telegram flood delivers them."""
    events = [InboundEvent("console", who, uuid.uuid4().hex, text=line) for line in lines]
    await asyncio.gather(*(bot.engine.handle(e) for e in events))
    await bot.engine.drain()


def routed(url: str) -> Bot:
    # the flood limit is for people on network channels; the test channel plays one here
    return Bot(url, router=make_router(), channel_name="console", flood_limit="20/10 seconds")


def inbound_texts(bot: Bot, who: str = "alice") -> list[str]:
    return [str(m.body.get("text")) for m in bot.messages(who) if m.direction == "in"]


async def test_a_burst_of_danger_words_in_relay_reaches_the_expert_joined(
        sqlite_url: str) -> None:
    async with routed(sqlite_url) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        await bot.say("aannemen 1", who="anna")
        await bot.say("Dag, ik ben Anna.", who="anna")
        before_expert, before_person = len(bot.channel.to("anna")), len(bot.channel.to("alice"))
        lines = [f"help {i}" for i in range(300)]
        await burst(bot, lines)
        to_expert = bot.channel.to("anna")[before_expert:]
        to_person = bot.channel.to("alice")[before_person:]
        joined = "\n".join(m.text for m in to_expert)
        assert all(f"help {i}\n" in joined + "\n" for i in range(300)), "every one passed on"
        assert len(to_expert) <= 30, f"{len(to_expert)} messages for 300 (600 before)"
        advice = [m for m in to_person if "Bel direct 112" in m.text]
        assert advice and to_person.index(advice[0]) == 0, "danger answered at once"
        assert len(advice) <= 3, "one 112 advice a short while, not 300"
    assert set(lines) <= set(inbound_texts(bot)), "nothing is lost"


async def test_the_same_alarm_two_hundred_times_is_answered_once_and_all_kept(
        sqlite_url: str) -> None:
    async with Bot(sqlite_url, flood_limit="20/10 seconds") as bot:
        await bot.script(["hallo", "1"])
        before = len(bot.channel.to("alice"))
        for _ in range(200):
            await bot.say("help")
        replies = bot.channel.to("alice")[before:]
        assert "Bel direct 112" in replies[0].text, "the first is answered at once"
        assert len(replies) <= 10, f"{len(replies)} replies (801 before)"
        assert sum("De politie kan meteen komen" in r.text for r in replies) == 1
    assert inbound_texts(bot).count("help") == 200, "every one is kept"
    assert bot.cases()[0].urgent


async def test_different_danger_messages_each_get_the_advice(sqlite_url: str) -> None:
    async with Bot(sqlite_url, flood_limit="20/10 seconds") as bot:
        await bot.script(["hallo", "1"])
        for line in ("hij staat voor de deur", "hij heeft een mes", "er is brand"):
            assert "direct 112" in texts(await bot.say(line))


async def test_a_very_long_text_reaches_the_expert_shortened_and_whole_on_request(
        sqlite_url: str) -> None:
    long_text = " ".join(f"zin{i} over wat er gebeurde." for i in range(5000))
    assert len(long_text) > 100_000
    async with Bot(sqlite_url, router=make_router(), channel_name="console") as bot:
        await bot.script(INCIDENT_SUBMITTED)
        await bot.say("aannemen 1", who="anna")
        before = len(bot.channel.to("anna"))
        told = texts(await bot.say(long_text))
        assert "Uw bericht is erg lang" in told and "Het hele bericht is bewaard" in told
        (passed,) = bot.channel.to("anna")[before:]
        assert len(passed.text) < 4200
        assert passed.text.startswith("[#1] zin0 over") and "volledig 1" in passed.text
        full = texts(await bot.say("volledig 1", who="anna"))
        assert long_text in full
        assert texts(await bot.say("volledig 1", who="bert")).startswith("Zaak #1 is niet")
    assert inbound_texts(bot)[-1] == long_text
