"""The expert's daily tools on the real engine and database: the team's vetted texts
(``sjabloon``), a colleague reading along (``overleg``), and blocking an abusive account
(``blokkeer``, lifted by a coordinator with ``deblokkeer``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from config.settings import TEXT_PLACEHOLDERS
from flows.loader import FLOWS_DIR, FlowError, load_flows
from storage.models import AuditEntry, CaseConsult, CaseNote, Message, Person
from tests.harness import Bot, texts, to, wait_for
from tests.intake import INCIDENT_SUBMITTED
from tests.routing_support import make_router, routed_bot


def audit(bot: Bot) -> list[tuple[str, str, int | None, str | None]]:
    with bot.session() as s:
        return [(a.actor, a.action, a.case_id, a.detail)
                for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


async def taken_by_anna(bot: Bot) -> None:
    await bot.script(INCIDENT_SUBMITTED)
    await bot.say("aannemen 1", who="anna")


# -- vetted texts ---------------------------------------------------------------------------


async def test_an_expert_sends_a_vetted_text_in_the_persons_language(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await taken_by_anna(bot)
        listing = texts(await bot.say("sjabloon", who="anna"))
        assert "Vaste teksten van het team" in listing
        assert "• aangifte: Aangifte doen" in listing and "• bewijs: Bewijs bewaren" in listing

        replies = texts(await bot.say("sjabloon aangifte", who="anna"))
        assert "Vaste tekst 'Aangifte doen' is gestuurd naar de persoon van zaak #1" in replies
        sent = bot.channel.to("alice")[-1].text
        assert sent.startswith("Anna:\nU kunt aangifte doen bij de politie. Bel 0900-8844")
        assert "VPT-code" in sent
        # Kept with the case like anything the expert writes, and so in the case file.
        with bot.session() as s:
            kept = s.scalars(select(Message).where(Message.case_id == 1,
                                                   Message.direction == "in")).all()
        assert any(m.body.get("template") == "aangifte" for m in kept)
        assert "U kunt aangifte doen" in texts(await bot.say("volledig 1", who="anna"))

        # A title works as well as a name; an unknown name gets the list, not a guess.
        await bot.say("sjabloon Bewijs bewaren", who="anna")
        assert "Gooi bedreigende berichten niet weg" in bot.channel.to("alice")[-1].text
        unknown = texts(await bot.say("sjabloon vakantie", who="anna"))
        assert "Die vaste tekst ken ik niet" in unknown and "• veilig: Veilig thuis" in unknown
        # The start of a name fits two (bewijs, bellen): nothing is sent on a guess.
        before = len(bot.channel.to("alice"))
        assert "Die vaste tekst ken ik niet" in texts(await bot.say("sjabloon be", who="anna"))
        assert len(bot.channel.to("alice")) == before


async def test_an_english_speaker_gets_the_english_text(sqlite_url: str) -> None:
    async with routed_bot(sqlite_url, router=make_router()) as bot:
        await bot.say("english", who="erin")
        await bot.script(INCIDENT_SUBMITTED, who="erin")  # answers by number, in English
        await bot.say("aannemen 1", who="anna")
        await bot.say("sjabloon veilig", who="anna")
        sent = bot.channel.to("erin")[-1].text
        assert sent.startswith("Anna:\nDo you not feel safe at home?")
        assert "call 112 at once" in sent


async def test_a_vetted_text_needs_a_case_of_ones_own(sqlite_url: str) -> None:
    async with routed_bot(sqlite_url, router=make_router()) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        assert "geen open zaak" in texts(await bot.say("sjabloon bewijs", who="anna"))
        assert "geen open zaak" in texts(await bot.say("sjabloon 1 bewijs", who="bert"))
        assert "Gooi" not in to(bot, "alice")


def test_a_template_file_with_an_unknown_field_or_too_long_is_refused(tmp_path: Path) -> None:
    for name in FLOWS_DIR.glob("*.yaml"):
        (tmp_path / name.name).write_text(name.read_text())
    (tmp_path / "understanding").mkdir()
    good = {"title": {"nl": "Titel", "en": "Title"}, "text": {"nl": "Bel {police_number}.",
                                                               "en": "Call {police_number}."}}
    (tmp_path / "templates.yaml").write_text(yaml.safe_dump({"templates": {"bel": good}}))
    assert list(load_flows(tmp_path, TEXT_PLACEHOLDERS).templates.templates) == ["bel"]
    wrong = {**good, "text": {"nl": "Hallo {voornaam}", "en": "Hello"}}
    (tmp_path / "templates.yaml").write_text(yaml.safe_dump({"templates": {"bel": wrong}}))
    with pytest.raises(FlowError, match="unknown placeholder"):
        load_flows(tmp_path, TEXT_PLACEHOLDERS)
    long = {**good, "text": {"nl": "a" * 1501, "en": "b"}}
    (tmp_path / "templates.yaml").write_text(yaml.safe_dump({"templates": {"bel": long}}))
    with pytest.raises(FlowError, match="longer than"):
        load_flows(tmp_path, TEXT_PLACEHOLDERS)
    (tmp_path / "templates.yaml").write_text(yaml.safe_dump({"templates": {"Two Words": good}}))
    with pytest.raises(FlowError, match="one lower-case word"):
        load_flows(tmp_path, TEXT_PLACEHOLDERS)


# -- reading along --------------------------------------------------------------------------


async def test_a_colleague_reads_along_and_adds_notes_without_taking_the_case(
        db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await taken_by_anna(bot)
        assert "Bij zaak #1 leest niemand mee" in texts(await bot.say("overleg 1", who="anna"))
        replies = texts(await bot.say("overleg 1 @bert", who="anna"))
        assert "Bert leest nu mee bij zaak #1" in replies
        invite = bot.channel.to("bert")[-1].text
        assert "Anna vraagt u mee te lezen bij zaak #1" in invite and "volledig 1" in invite
        assert "Ergenshuizen" not in invite  # the invitation itself holds no content

        file = texts(await bot.say("volledig 1", who="bert"))
        assert "Alles van zaak #1" in file and "Ergenshuizen" in file
        assert "Notitie bij zaak #1 bewaard" in texts(
            await bot.say("notitie 1 denk aan de VPT-code", who="bert"))
        assert bot.channel.to("anna")[-1].text == "[#1] Notitie van Bert:\ndenk aan de VPT-code"
        # Reading along is not taking: no closing, no writing to the person.
        assert "Zaak #1 is niet aan u gevraagd of niet aan u gegeven" in texts(
            await bot.say("sluit 1 advies", who="bert"))
        assert "geen open zaak" in texts(await bot.say("Hallo, ik ben Bert", who="bert"))
        assert "Bert:" not in to(bot, "alice")
        assert bot.cases()[0].status == "assigned"
        assert "Bij zaak #1 lezen mee: Bert" in texts(await bot.say("overleg 1", who="anna"))

        assert "Bert leest niet meer mee" in texts(
            await bot.say("overleg 1 bert stop", who="anna"))
        assert "U leest niet meer mee bij zaak #1" in bot.channel.to("bert")[-1].text
        refused = texts(await bot.say("volledig 1", who="bert"))
        assert "Ergenshuizen" not in refused
        with bot.session() as s:
            (consult,) = s.scalars(select(CaseConsult)).all()
            assert consult.expert == "bert" and consult.asked_by == "anna"
            assert consult.ended_at is not None
            assert [n.author for n in s.scalars(select(CaseNote))] == ["bert"]
        actions = [(actor, action, detail) for actor, action, _, detail in audit(bot)]
        assert ("expert:anna", "consult", "bert") in actions
        assert ("expert:bert", "open", "full") in actions
        assert ("expert:anna", "consult_end", "bert") in actions
        assert ("expert:bert", "denied", None) in actions


async def test_only_the_cases_expert_or_a_coordinator_asks_someone_to_read_along(
        sqlite_url: str) -> None:
    async with routed_bot(sqlite_url, router=make_router()) as bot:
        await taken_by_anna(bot)
        assert "niet aan u gevraagd of niet aan u gegeven" in texts(
            await bot.say("overleg 1 carla", who="bert"))
        assert "mee te lezen" not in to(bot, "carla")
        assert "staat niet op het rooster" in texts(await bot.say("overleg 1 dirk", who="anna"))
        assert "Anna heeft zaak #1 al" in texts(await bot.say("overleg 1 anna", who="anna"))
        # A coordinator may, and the case's expert hears of it.
        assert "Bert leest nu mee" in texts(await bot.say("overleg 1 bert", who="carla"))
        assert "Coördinator Carla heeft Bert gevraagd mee te lezen" in to(bot, "anna")
        assert "Bert leest al mee" in texts(await bot.say("overleg 1 bert", who="anna"))
        # Closing the case ends reading along.
        await bot.say("sluit 1 advies", who="anna")
        assert "Ergenshuizen" not in texts(await bot.say("volledig 1", who="bert"))


# -- blocking -------------------------------------------------------------------------------


async def test_a_blocked_account_is_kept_away_from_experts_and_notices_nothing(
        db_url: str) -> None:
    async with routed_bot(db_url, router=make_router(escalation=0.3)) as bot:
        await taken_by_anna(bot)
        before = await bot.say("Dit is een gewoon bericht")
        assert before == [] and "Dit is een gewoon bericht" in to(bot, "anna")

        replies = texts(await bot.say("blokkeer 1", who="anna"))
        assert "Zaak #1: het account is geblokkeerd" in replies
        assert "Anna heeft het account van deze zaak geblokkeerd" in to(bot, "carla")
        with bot.session() as s:
            person = s.scalars(select(Person).where(Person.address == "alice")).one()
            assert person.blocked_at is not None and person.blocked_by == "anna"

        seen_by_anna = len(bot.channel.to("anna"))
        # The account writes on: it is answered exactly as before, nothing reaches Anna.
        assert await bot.say("Ik weet waar je woont") == before
        assert "Ik heb Anna laten weten dat u wilt stoppen" in texts(await bot.say("stop"))
        assert len(bot.channel.to("anna")) == seen_by_anna
        with bot.session() as s:
            kept = [m.body for m in s.scalars(select(Message).where(
                Message.case_id == 1, Message.direction == "in", Message.address == "alice"))]
        assert {"text": "Ik weet waar je woont"} in kept  # kept as evidence
        assert ("person", "withheld", 1, "from_person") in audit(bot)
        assert "Ik weet waar je woont" in texts(await bot.say("volledig 1", who="anna"))

        # Its next case is told what anyone is told, and offered to nobody, also later.
        await bot.say("sluit 1 anders", who="anna")
        seen = {who: len(bot.channel.to(who)) for who in ("anna", "bert", "carla")}
        moved_on = to(bot, "alice").count("andere medewerker")  # case 1 may have, before
        second = texts(await bot.script(INCIDENT_SUBMITTED))
        assert "Ik heb een medewerker gevraagd om u te helpen" in second
        await asyncio.sleep(1.0)
        await bot.engine.drain()
        assert {who: len(bot.channel.to(who)) for who in seen} == seen
        case = bot.cases()[-1]
        assert case.id == 2 and case.status == "asking" and case.escalate_at is None
        assert to(bot, "alice").count("andere medewerker") == moved_on
        assert ("bot", "held", 2, "blocked") in audit(bot)

        # Only a coordinator lifts the block; the held case is offered then.
        assert "Alleen een coördinator" in texts(await bot.say("deblokkeer 2", who="anna"))
        lifted = texts(await bot.say("deblokkeer 2", who="carla"))
        assert "de blokkade is opgeheven" in lifted and "Nu gevraagd aan experts: #2" in lifted
        assert "Nieuwe zaak #2" in to(bot, "anna") + to(bot, "bert")
        with bot.session() as s:
            person = s.scalars(select(Person).where(Person.address == "alice")).one()
            assert person.blocked_at is None
        assert "niet geblokkeerd" in texts(await bot.say("deblokkeer 2", who="carla"))


async def test_danger_from_a_blocked_account_still_gets_112(sqlite_url: str) -> None:
    async with routed_bot(sqlite_url, router=make_router()) as bot:
        await taken_by_anna(bot)
        await bot.say("blokkeer 1", who="anna")
        seen = len(bot.channel.to("anna"))
        assert "112" in texts(await bot.say("Er staat iemand met een mes voor mijn deur"))
        assert len(bot.channel.to("anna")) == seen
        assert "al geblokkeerd" in texts(await bot.say("blokkeer 1", who="carla"))
        assert "niet aan u gevraagd of niet aan u gegeven" in texts(
            await bot.say("blokkeer 1", who="bert"))


# -- first contact after an accept ----------------------------------------------------------



async def test_an_expert_who_took_a_case_and_wrote_nothing_is_reminded_then_the_coordinator(
        db_url: str) -> None:
    async with routed_bot(db_url, router=make_router(first_contact=0.8)) as bot:
        await taken_by_anna(bot)
        await wait_for(lambda: "Herinnering: u nam deze zaak" in to(bot, "anna"), within=5)
        assert "Heeft Anna nog geen contact" not in to(bot, "alice")
        assert "nam deze zaak" not in to(bot, "carla")
        await wait_for(lambda: "Anna nam deze zaak" in to(bot, "carla"), within=5)
        await bot.engine.drain()
        late = to(bot, "carla")
        assert "overdragen 1 <specialisme>" in late and "juridische hulp" in late
        assert "Heeft Anna nog geen contact met u opgenomen? Dat spijt me." in to(bot, "alice")
        await asyncio.sleep(1.0)  # told once each, not again
        assert to(bot, "anna").count("Herinnering: u nam deze zaak") == 1
        assert to(bot, "alice").count("Heeft Anna nog geen contact") == 1
        actions = [(action, detail) for _, action, case, detail in audit(bot) if case == 1]
        assert ("contact_reminder", "anna") in actions and ("contact_late", "anna") in actions
        # The coordinator lets a colleague take it over.
        await bot.say("overdragen 1 rechtshulp", who="carla")
        assert "Nieuwe zaak #1" in to(bot, "bert")


async def test_writing_to_the_person_or_noting_a_call_stops_the_reminder(
        sqlite_url: str) -> None:
    async with routed_bot(sqlite_url, router=make_router(first_contact=0.4)) as bot:
        await taken_by_anna(bot)
        await bot.say("Goedemiddag, ik ben Anna.", who="anna")
        await bot.script(INCIDENT_SUBMITTED, who="bob")
        await bot.say("aannemen 2", who="bert")  # the least busy was asked
        await bot.say("notitie 2 gebeld, morgen weer", who="bert")
        await asyncio.sleep(1.2)
        await bot.engine.drain()
        assert "Herinnering" not in to(bot, "anna") + to(bot, "bert")
        assert "nam deze zaak" not in to(bot, "carla")
        (bobs,) = bot.cases("bob")
        assert bobs.assigned_expert == "bert" and bobs.contact_due_at is None
        assert bot.cases()[0].contact_due_at is None


async def test_the_reminder_falls_due_while_the_bot_is_down(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router(first_contact=0.5)) as bot:
        await taken_by_anna(bot)
    await asyncio.sleep(0.8)  # down when the reminder falls due
    async with routed_bot(db_url, router=make_router(first_contact=0.5)) as again:
        await wait_for(lambda: "Herinnering: u nam deze zaak" in to(again, "anna"), within=5)
