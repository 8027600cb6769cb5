"""Routing cases to experts on the real engine and database: handoff, decline, escalation to
the coordinator, first accept wins, relay both ways, close, transfer, access rules, restart."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.events import Attachment, InboundEvent
from storage.models import AcceptFact, AuditEntry, Case, CaseNote, Handoff, Message, Person
from tests.harness import Bot, texts, to, wait_for
from tests.intake import INCIDENT_SUBMITTED
from tests.routing_support import make_router, routed_bot


async def submit(bot: Bot, who: str = "alice") -> None:
    await bot.script(INCIDENT_SUBMITTED, who)



def handoffs(bot: Bot) -> list[Handoff]:
    with bot.session() as s:
        return list(s.scalars(select(Handoff).order_by(Handoff.id)))


def audit(bot: Bot) -> list[tuple[str, str, int | None]]:
    with bot.session() as s:
        return [(a.actor, a.action, a.case_id)
                for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]



async def test_a_confirmed_intake_asks_the_least_busy_on_call_expert(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await submit(bot)
        person = to(bot, "alice")
        assert "Ik heb een medewerker gevraagd om u te helpen" in person
        assert "1 minuut" in person
        offer = bot.channel.to("anna")
        assert len(offer) == 1 and "Nieuwe zaak #1" in offer[0].text
        assert [o.label for o in offer[0].options] == ["Aannemen", "Afwijzen"]
        # Before accepting, the expert sees no free text and no name of a municipality.
        assert "kinderen" not in offer[0].text and "Ergenshuizen" not in offer[0].text
        assert "Bedreiging" in offer[0].text and \
            "• Gevraagd specialisme: juridische hulp" in offer[0].text
        assert bot.channel.to("bert") == [] and bot.channel.to("carla") == []
        (case,) = bot.cases()
        assert case.status == "asking" and case.specialties == ["rechtshulp"]
        assert case.first_asked_at is not None and case.escalate_at is not None


async def test_decline_then_silence_reaches_the_coordinator_in_time(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router(escalation=0.5)) as bot:
        await submit(bot)
        offer = bot.channel.to("anna")[0]
        replies = await bot.press(offer.options[1].payload, who="anna")
        assert "U heeft zaak #1 afgewezen" in texts(replies)
        assert "Nieuwe zaak #1" in to(bot, "bert")
        # Bert never answers: after the escalation time the coordinator is asked.
        started = asyncio.get_running_loop().time()
        await wait_for(lambda: bot.channel.to("carla"), within=5)
        assert asyncio.get_running_loop().time() - started < 3
        await bot.engine.drain()
        assert "Nieuwe zaak #1" in to(bot, "carla")
        assert "coördinator van het team gevraagd" in to(bot, "alice")
        assert [(h.expert, h.status) for h in handoffs(bot)] == [
            ("anna", "declined"), ("bert", "asked"), ("carla", "asked")]
        # Still nobody: the coordinator is reminded and the person told honestly, once.
        await wait_for(lambda: "Herinnering" in to(bot, "carla"), within=5)
        await wait_for(lambda: "nog niet gelukt" in to(bot, "alice"), within=5)
        await asyncio.sleep(1.2)
        assert to(bot, "alice").count("nog niet gelukt") == 1
        # A late accept from Bert still wins; the coordinator is told it is taken.
        await bot.say("aannemen 1", who="bert")
        await bot.engine.drain()
        assert "al aangenomen door een collega" in to(bot, "carla")
        assert "Bert (medewerker van het Ondersteuningsteam) gaat u helpen" in to(bot, "alice")
        (case,) = bot.cases()
        assert case.status == "assigned" and case.assigned_expert == "bert"
        assert case.escalate_at is None and case.escalation_level > 1000
        with bot.session() as s:
            assert [f.escalated for f in s.scalars(select(AcceptFact))] == [True]


async def test_two_accepts_at_once_one_wins(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router(ask_count=2)) as bot:
        await bot.script(["hallo", "1", "ja"])  # in danger now: urgent, both asked at once
        anna, bert = bot.channel.to("anna")[0], bot.channel.to("bert")[0]
        assert "SPOED" in anna.text and "SPOED" in bert.text
        presses = [InboundEvent("console", "anna", "a1", option=anna.options[0].payload),
                   InboundEvent("console", "bert", "b1", option=bert.options[0].payload)]
        await asyncio.gather(*(bot.engine.handle(press) for press in presses))
        await bot.engine.drain()
        (case,) = bot.cases()
        winner = str(case.assigned_expert)
        loser = "bert" if winner == "anna" else "anna"
        assert "U heeft zaak #1 aangenomen" in to(bot, winner)
        assert "al aangenomen door een collega" in to(bot, loser)
        assert "U heeft zaak #1 aangenomen" not in to(bot, loser)
        assert sorted(h.status for h in handoffs(bot)) == ["accepted", "taken"]
        # The person was mid-intake: told who helps and that the questions may stop.
        assert "U hoeft mijn vragen niet meer te beantwoorden" in to(bot, "alice")


async def test_a_shared_location_is_kept_with_the_case_and_passed_on(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await submit(bot)
        thanks = texts(await bot.share_location(52.0907, 5.1214))
        assert "Ik heb uw locatie bewaard bij uw melding" in thanks
        assert "Ik stuur niemand naar deze plek" in thanks and "Bel direct 112" in thanks
        assert "52.09" not in to(bot, "anna"), "not before the case is taken"

        await bot.say("aannemen 1", who="anna")
        link = "https://www.openstreetmap.org/?mlat=52.090700&mlon=5.121400#map=17/52.090700/5.121400"
        assert f"Aanvulling: locatie 52.090700, 5.121400 {link}" in to(bot, "anna")

        replies = texts(await bot.share_location(52.1, 5.2))
        assert "Ik heb uw locatie doorgegeven aan Anna" in replies and "112" in replies
        assert bot.channel.to("anna")[-1].text.startswith(
            "[#1] De persoon deelt een locatie: 52.100000, 5.200000\nhttps://www.openstreetmap.org/")

        await bot.share_location(52.37, 4.89, who="anna")
        assert bot.channel.to("alice")[-1].text.startswith(
            "Anna deelt een plek op de kaart met u: 52.370000, 4.890000\n")
        (case,) = bot.cases()
        with bot.session() as s:
            kept = [m.body for m in s.scalars(select(Message).where(
                Message.case_id == case.id, Message.direction == "in").order_by(Message.id))]
        assert [b["location"] for b in kept if "location" in b] == [
            {"latitude": 52.0907, "longitude": 5.1214}, {"latitude": 52.1, "longitude": 5.2},
            {"latitude": 52.37, "longitude": 4.89}]


async def test_a_contact_card_goes_with_the_case_and_both_ways(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await submit(bot)
        await bot.share_contact("Onbekende beller", "+31 6 98765432")
        assert "98765432" not in to(bot, "anna"), "not before the case is taken"
        await bot.say("aannemen 1", who="anna")
        assert "Aanvulling: contact Onbekende beller, +31 6 98765432" in to(bot, "anna")

        assert await bot.share_contact("Buurman", "06 11112222") == []
        assert bot.channel.to("anna")[-1].text == (
            "[#1] De persoon deelt een contact: Buurman, 06 11112222")
        await bot.share_contact("Slachtofferhulp", "0900 0101", who="anna")
        assert bot.channel.to("alice")[-1].text == (
            "Anna deelt een contact met u: Slachtofferhulp, 0900 0101")


async def test_relay_both_ways_with_files_and_the_persons_words(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await submit(bot)
        await bot.attach("photo")  # evidence added after the intake
        await bot.say("aannemen 1", who="anna")
        file = to(bot, "anna")
        assert "Ergenshuizen" in file and "kinderen" in file  # the full intake now
        photos = [m for m in bot.channel.to("anna") if m.attachment is not None]
        assert len(photos) == 1 and photos[0].attachment.kind == "photo"  # type: ignore[union-attr]
        assert "Anna (jurist) gaat u helpen" in to(bot, "alice")
        assert "Anna stuurt u hier een bericht" in to(bot, "alice")

        await bot.say("Goedemiddag, ik ben Anna. Hoe gaat het nu?", who="anna")
        assert bot.channel.to("alice")[-1].text == (
            "Anna:\nGoedemiddag, ik ben Anna. Hoe gaat het nu?")
        replies = await bot.say("Niet zo goed, ik slaap slecht.")
        assert replies == []  # goes to Anna, no bot chatter in between
        assert bot.channel.to("anna")[-1].text == "[#1] Niet zo goed, ik slaap slecht."
        await bot.attach("document")
        assert bot.channel.to("anna")[-1].attachment is not None
        expert_photo = Attachment("photo", "expert-file")
        await bot.send(InboundEvent("console", "anna", uuid.uuid4().hex, attachment=expert_photo))
        assert bot.channel.to("alice")[-1].attachment == expert_photo

        assert "U praat al met Anna (jurist)" in texts(await bot.say("mens"))
        assert "vraagt om een mens" in bot.channel.to("anna")[-1].text
        assert "Ik heb Anna laten weten dat u wilt stoppen" in texts(await bot.say("stop"))
        assert "wil nu stoppen" in bot.channel.to("anna")[-1].text
        danger = texts(await bot.say("Er staat iemand voor mijn deur met een mes"))
        assert "112" in danger
        assert "LET OP" in to(bot, "anna")
        privacy = texts(await bot.say("privacy"))
        assert "privacy" in privacy.lower()  # other commands still work as always

        (case,) = bot.cases()
        assert case.urgent and case.accepted_at is not None
        assert case.first_answer_at is not None
        with bot.session() as s:
            kept = list(s.scalars(select(Message).where(Message.case_id == case.id,
                                                        Message.direction == "in")))
        bodies = [m.body for m in kept]
        assert {"text": "Niet zo goed, ik slaap slecht."} in bodies
        assert {"text": "Goedemiddag, ik ben Anna. Hoe gaat het nu?"} in bodies


async def test_close_note_and_a_fresh_start_afterwards(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await submit(bot)
        await bot.say("aannemen 1", who="anna")
        assert "Notitie bij zaak #1 bewaard" in texts(
            await bot.say("notitie 1 belt morgen terug", who="anna"))
        assert "Uitkomsten" in texts(await bot.say("sluit 1", who="anna"))
        assert "Zaak #1 is gesloten: advies gegeven" in texts(
            await bot.say("sluit 1 advies", who="anna"))
        assert "Anna heeft het gesprek afgesloten" in to(bot, "alice")
        (case,) = bot.cases()
        assert case.status == "closed" and case.outcome == "advies"
        assert case.closed_at is not None
        with bot.session() as s:
            assert [n.body for n in s.scalars(select(CaseNote))] == [
                {"text": "belt morgen terug"}]
        # The person's next message starts afresh, welcomed as someone who was here before.
        again = await bot.say("hallo")
        assert again[0].text.startswith("Welkom terug bij het Ondersteuningsteam")
        assert "Bel direct 112" in again[0].text
        assert "Waarmee kan ik u helpen?" in again[-1].text
        # Anna's plain text no longer goes anywhere.
        assert "geen open zaak" in texts(await bot.say("nog iets?", who="anna"))


async def test_transfer_asks_the_other_specialty(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await submit(bot)
        await bot.say("aannemen 1", who="anna")
        replies = texts(await bot.say("overdragen 1 nazorg", who="anna"))
        assert "Zaak #1 gaat naar nazorg en steun" in replies
        assert "doorgegeven aan een collega voor nazorg en steun" in to(bot, "alice")
        assert "Nieuwe zaak #1" in to(bot, "bert")
        (case,) = bot.cases()
        assert case.status == "asking" and case.specialties == ["nazorg"]


async def test_forged_and_foreign_actions_are_refused_and_audited(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await submit(bot)
        offer = bot.channel.to("anna")[0]
        # Bert presses Anna's button (a forged payload): refused.
        assert "niet aan u gevraagd" in texts(await bot.press(offer.options[0].payload, "bert"))
        # A person presses an expert's payload: just an old button to them.
        assert "Aannemen" not in texts(await bot.press(offer.options[0].payload, "mallory"))
        assert "niet aan u gevraagd" in texts(await bot.press("ho:999:accept", "bert"))
        assert "niet aan u gevraagd" in texts(await bot.say("sluit 1 advies", who="bert"))
        assert "niet aan u gevraagd" in texts(await bot.say("notitie 1 x", who="bert"))
        await bot.say("aannemen 1", who="anna")
        # Bert cannot read along or write into Anna's case.
        assert "niet aan u gevraagd" in texts(await bot.say("zaak 1", who="bert"))
        assert "geen open zaak" in texts(await bot.say("hallo daar", who="bert"))
        assert all("hallo daar" not in m.text for m in bot.channel.to("alice"))
        (case,) = bot.cases()
        assert case.assigned_expert == "anna"
        actions = audit(bot)
        assert ("expert:bert", "denied", 1) in actions
        assert ("expert:anna", "accept", 1) in actions
        # The coordinator may close any open case.
        assert "gesloten" in texts(await bot.say("sluit 1 doorverwezen", who="carla"))


async def test_a_restart_during_a_pending_escalation_still_escalates(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router(escalation=0.5)) as bot:
        await submit(bot)
        assert bot.channel.to("anna") and not bot.channel.to("bert")
    await asyncio.sleep(1.0)  # the bot is down when the escalation falls due
    async with routed_bot(db_url, router=make_router(escalation=0.5)) as again:
        await wait_for(lambda: again.channel.to("bert"), within=5)
        await again.engine.drain()
        assert "Nieuwe zaak #1" in to(again, "bert")
        assert "andere medewerker gevraagd" in to(again, "alice")


async def test_erasure_withdraws_handoffs_and_leaves_nothing(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await submit(bot)
        await bot.say("aannemen 1", who="anna")
        await bot.say("Hoe gaat het?", who="anna")
        await bot.say("verwijder")
        await bot.say("ja")
        assert "de persoon heeft al zijn of haar gegevens laten verwijderen" in to(bot, "anna")
        with bot.session() as s:
            assert s.scalars(select(Person).where(Person.address == "alice")).all() == []
            assert s.scalars(select(Case)).all() == []
            assert s.scalars(select(Handoff)).all() == []
            assert s.scalars(select(CaseNote)).all() == []
            remaining = [m.body for m in s.scalars(select(Message))]
        assert all("Hoe gaat het" not in str(b) and "kinderen" not in str(b)
                   for b in remaining)


async def test_time_to_accept_is_recorded(sqlite_url: str) -> None:
    router = make_router()
    async with routed_bot(sqlite_url, router=router) as bot:
        await submit(bot)
        await bot.say("aannemen 1", who="anna")
        (case,) = bot.cases()
        assert case.accepted_at is not None and case.first_asked_at is not None
        assert timedelta(0) <= case.accepted_at - case.first_asked_at < timedelta(seconds=10)
    samples = router.metrics.registry.get_sample_value(
        "weerbaar_time_to_accept_seconds_count")
    assert samples == 1
    with bot.session() as s:
        (fact,) = s.scalars(select(AcceptFact)).all()
    assert fact.seconds < 10 and not fact.escalated and not fact.urgent
    assert fact.month == case.first_asked_at.strftime("%Y-%m")


@pytest.mark.parametrize("typed", ["1", "aannemen 1", "/accept 1", "Accept #1"])
async def test_experts_may_type_instead_of_pressing(sqlite_url: str, typed: str) -> None:
    async with routed_bot(sqlite_url, router=make_router()) as bot:
        await submit(bot)
        assert "U heeft zaak #1 aangenomen" in texts(await bot.say(typed, who="anna"))


async def test_a_one_typed_twice_after_accepting_is_not_passed_on(sqlite_url: str) -> None:
    async with routed_bot(sqlite_url, router=make_router()) as bot:
        await submit(bot)
        await bot.say("1", who="anna")
        heard = len(bot.channel.to("alice"))
        again = texts(await bot.say("1", who="anna"))
        assert "U heeft zaak #1 al aangenomen" in again
        assert len(bot.channel.to("alice")) == heard, "the person is not sent a bare '1'"
        await bot.say("Goedemiddag, ik ben Anna.", who="anna")
        await bot.say("2", who="anna")  # once the expert writes, a digit is an answer
        assert bot.channel.to("alice")[-1].text == "Anna:\n2"


async def test_edits_and_forwards_between_a_person_and_an_expert_are_passed_on_marked(
        sqlite_url: str) -> None:
    def edit(who: str, text: str) -> InboundEvent:
        return InboundEvent("console", who, uuid.uuid4().hex, text=text, edited=True)

    async with routed_bot(sqlite_url, router=make_router()) as bot:
        await submit(bot)
        await bot.say("aannemen 1", who="anna")
        await bot.say("Goedemiddag, ik ben Anna.", who="anna")
        await bot.say("Ik slaap slecht.")
        assert await bot.send(edit("alice", "Ik slaap heel slecht.")) == []
        assert bot.channel.to("anna")[-1].text == "[#1] (bericht aangepast) Ik slaap heel slecht."
        await bot.send(edit("anna", "Goedemiddag, ik ben Anna, jurist."))
        assert bot.channel.to("alice")[-1].text == (
            "Anna (bericht aangepast):\nGoedemiddag, ik ben Anna, jurist.")
        forwarded = InboundEvent("console", "alice", uuid.uuid4().hex, text="stop",
                                 forwarded=True)
        assert await bot.send(forwarded) == [], "a forwarded 'stop' is not a command"
        assert bot.channel.to("anna")[-1].text == "[#1] (doorgestuurd bericht) stop"
        refused = texts(await bot.send(edit("anna", "sluit 1 advies")))
        assert "Een aangepast bericht voer ik niet uit" in refused
        assert bot.cases()[0].status == "assigned", "an edited command is not carried out"


async def test_a_coordinator_reads_the_audit_log_of_a_case_in_the_chat(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await submit(bot)
        await bot.say("aannemen 1", who="anna")
        refused = texts(await bot.say("logboek 1", who="anna"))
        assert "Alleen een coördinator" in refused
        log_text = texts(await bot.say("logboek 1", who="carla"))
        assert "Logboek van zaak #1" in log_text
        assert "expert:anna accept" in log_text and "bot asked anna" in log_text
        assert "Hij schreef" not in log_text, "no content in the audit log"
        actions = audit(bot)
        assert ("expert:carla", "audit_read", 1) in actions
        assert ("expert:anna", "denied", 1) in actions
