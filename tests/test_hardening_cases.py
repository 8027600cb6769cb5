"""Cases that must not be taken or read by the wrong person: a stale Accept button after a
decline or a transfer, and case numbers that come back after an erasure."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Case, Handoff
from tests.harness import Bot, texts
from tests.intake import INCIDENT_SUBMITTED
from tests.routing_support import make_router, routed_bot


def handoff_statuses(bot: Bot) -> list[tuple[str, str]]:
    with bot.session() as s:
        return [(h.expert, h.status) for h in s.scalars(select(Handoff).order_by(Handoff.id))]


async def test_a_stale_accept_after_declining_does_not_take_the_case(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        offer = bot.channel.to("anna")[0]
        accept, decline = (o.payload for o in offer.options)
        await bot.press(decline, who="anna")
        assert ("bert", "asked") in handoff_statuses(bot), "the case moved on to Bert"
        replies = texts(await bot.press(accept, who="anna"))
        assert "is al afgehandeld" in replies
        typed = texts(await bot.say("aannemen 1", who="anna"))
        assert "U heeft zaak #1 aangenomen" not in replies + typed
        (case,) = bot.cases()
        assert case.status == "asking" and case.assigned_expert is None
        assert "gaat u helpen" not in texts(bot.channel.to("alice"))
        await bot.say("aannemen 1", who="bert")
        assert bot.cases()[0].assigned_expert == "bert", "the open offer still works"


async def test_a_stale_accept_after_a_transfer_does_not_take_the_case_back(
        db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        accept = bot.channel.to("anna")[0].options[0].payload
        await bot.press(accept, who="anna")
        await bot.say("overdragen 1 nazorg", who="anna")
        assert bot.cases()[0].status == "asking"
        replies = texts(await bot.press(accept, who="anna"))
        assert "U heeft zaak #1 aangenomen" not in replies
        (case,) = bot.cases()
        assert case.status == "asking" and case.assigned_expert is None
        assert ("anna", "transferred") in handoff_statuses(bot)


async def test_a_case_number_is_never_given_out_again_after_an_erasure(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await bot.script(INCIDENT_SUBMITTED, who="first")
        await bot.say("aannemen 1", who="anna")
        await bot.script(["verwijder", "ja"], who="first")
        with bot.session() as s:
            assert s.scalars(select(Case)).all() == []
        await bot.script(INCIDENT_SUBMITTED, who="second")
        (case,) = bot.cases("second")
        assert case.id == 2, "not the erased case's number"
        trail = texts(await bot.say(f"logboek {case.id}", who="carla"))
        assert "expert:anna accept" not in trail, "the erased case's trail stays apart"
        old = texts(await bot.say("logboek 1", who="carla"))
        assert "expert:anna accept" in old
