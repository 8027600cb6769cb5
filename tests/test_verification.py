"""Reporter verification without exposure (issue 19.3): the team marks a case verified with how
it checked, audited and encrypted; the expert offered the case sees it (or that it is not); the
person is never asked for proof and never told."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.models import AuditEntry
from tests.harness import Bot, texts
from tests.intake import INCIDENT_SUBMITTED
from tests.routing_support import make_router, routed_bot

HOW = "gebeld via de griffie van Ergenshuizen"


def audit(bot: Bot) -> list[tuple[str, str, int | None]]:
    with bot.session() as s:
        return [(a.actor, a.action, a.case_id)
                for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


async def test_a_verified_case_says_so_in_the_next_offer(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        first_offer = texts(bot.channel.to("anna"))
        assert "• Niet geverifieerd: het team weet nog niet zeker" in first_offer
        done = texts(await bot.say(f"verifieer 1 {HOW}", who="carla"))
        assert f"Zaak #1 is geverifieerd: {HOW}" in done
        await bot.say("aannemen 1", who="anna")
        await bot.say("overdragen 1 nazorg", who="anna")
        second_offer = texts(bot.channel.to("bert"))
        assert f"• Geverifieerd door Carla: {HOW}" in second_offer
        assert "Niet geverifieerd" not in second_offer
        (case,) = bot.cases()
        assert case.verified_by == "carla" and case.verified_at is not None
        assert case.verified_how == {"text": HOW}
        assert ("expert:carla", "verify", 1) in audit(bot)
        person = texts(bot.channel.to("alice")).lower()
        assert "verifi" not in person and "griffie van" not in person, \
            "the person is never told, nor asked for proof"


async def test_only_the_case_s_expert_or_a_coordinator_may_verify(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        await bot.say("aannemen 1", who="anna")
        refused = texts(await bot.say("verifieer 1 ik ken haar", who="bert"))
        assert "niet aan u gevraagd" in refused
        assert bot.cases()[0].verified_at is None
        assert ("expert:bert", "denied", 1) in audit(bot)
        usage = texts(await bot.say("verifieer 1", who="anna"))
        assert "verifieer 1 gebeld via de griffie" in usage
        await bot.say("verifieer 1 gesproken op het gemeentehuis", who="anna")
        assert bot.cases()[0].verified_by == "anna"
        undone = texts(await bot.say("verifieer 1 intrekken", who="anna"))
        assert "Zaak #1 is niet meer geverifieerd." in undone
        assert bot.cases()[0].verified_at is None and bot.cases()[0].verified_how is None
        assert ("expert:anna", "unverify", 1) in audit(bot)


async def test_how_it_was_verified_is_stored_encrypted(sqlite_url: str) -> None:
    async with routed_bot(sqlite_url, router=make_router()) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        await bot.say(f"verifieer 1 {HOW}", who="carla")
    raw = b"".join(p.read_bytes() for p in Path(sqlite_url.removeprefix("sqlite:///")).parent
                   .glob("weerbaar.db*"))
    assert b"griffie van Ergenshuizen" not in raw
