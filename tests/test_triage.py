"""Urgency triage (issue 19.4): the level and its reasons from the answers and signals, stored
with the case; it sets how many experts are asked and how soon the case moves on; an expert
can change it (audited); the rules are data, checked at load against their examples."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.admin.cli import app
from config import TEXT_PLACEHOLDERS
from config.timezone import TIMEZONE
from flows.loader import FLOWS_DIR, FlowError, load_flows
from flows.triage import assess
from storage.models import AuditEntry
from tests.conftest import TEST_KEY
from tests.harness import FLOWS, Bot, texts
from tests.intake import INCIDENT_SUBMITTED
from tests.routing_support import make_router, routed_bot

# The incident of routing_support, but over and without family: nothing makes it urgent.
CALM_INCIDENT = [*INCIDENT_SUBMITTED]
CALM_INCIDENT[9] = "nee"   # still going on?
CALM_INCIDENT[12] = "nee"  # partner or family involved?
# Tomorrow by the clock, typed as a date: triage judges by the real time (the harness's
# conversation has a fixed "today" for its own date words).
TOMORROW = f"{datetime.now(TIMEZONE).date() + timedelta(days=1):%d-%m-%Y}"
ONRUST_TOMORROW = ["hallo", "onrust", "nee", "bestuurder", "gemeente", "Gemeente Oost",
                   "onrust over een besluit", "Er is veel boosheid over de opvang.", TOMORROW,
                   "groot", "ja", "nee", "1 2", "via deze chat", "ja"]


@pytest.fixture
def environment(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("WEERBAAR_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("WEERBAAR_ENCRYPTION_KEYS", TEST_KEY)
    return sqlite_url


def audit(bot: Bot) -> list[tuple[str, str, int | None, str | None]]:
    with bot.session() as s:
        return [(a.actor, a.action, a.case_id, a.detail)
                for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_a_date_counts_within_48_hours_only_while_it_is_not_over() -> None:
    now = datetime(2026, 12, 2, 21, 0, tzinfo=UTC)  # 22:00 in Amsterdam, a Wednesday

    def level(day: str) -> str:
        return assess(FLOWS.triage, flow="onrust", signals=(), now=now,
                      answers={"key_date": {"text": day, "value": day}}).level

    assert level("2026-12-02") == "hoog", "today, not over yet"
    assert level("2026-12-04") == "hoog", "starts 26 hours from now"
    assert level("2026-12-05") == "normaal", "starts 50 hours from now"
    assert level("2026-12-01") == "normaal", "yesterday is over"


def test_a_rule_whose_example_no_longer_holds_is_refused_at_start(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    triage = flows / "triage.yaml"
    triage.write_text(triage.read_text().replace(
        "when: [{flow: incident, step: ongoing, options: [\"yes\"]}]",
        "when: [{flow: incident, step: ongoing, options: [\"no\"]}]"))
    with pytest.raises(FlowError, match="example 1: the rules give hoog"):
        load_flows(flows, TEXT_PLACEHOLDERS)
    triage.write_text(triage.read_text().replace("options: [\"no\"]", "options: [often]"))
    with pytest.raises(FlowError, match="rule 'ongoing': step 'ongoing' has no options"):
        load_flows(flows, TEXT_PLACEHOLDERS)


async def test_still_going_on_and_family_make_a_case_high_and_two_experts_are_asked(
        db_url: str) -> None:
    router = make_router(escalation=3600, high=600, high_ask_count=2)
    async with routed_bot(db_url, router=router) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        assert "Duurt dat langer dan 10 minuten?" in texts(bot.channel.to("alice"))
        for expert in ("anna", "bert"):
            offer = texts(bot.channel.to(expert))
            assert "• Urgentie: hoog (gaat nog door; partner of gezin betrokken)" in offer
            assert "• Niet geverifieerd" in offer and "(SPOED)" not in offer
        (case,) = bot.cases()
        assert case.urgency == "hoog" and case.urgency_reasons == ["ongoing", "family"]
        assert case.escalate_at is not None and case.first_asked_at is not None
        waits = case.escalate_at - case.first_asked_at
        assert timedelta(seconds=590) < waits < timedelta(seconds=610)


async def test_a_calm_case_is_normal_and_asks_one_expert(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router(high_ask_count=2)) as bot:
        await bot.script(CALM_INCIDENT)
        assert "• Urgentie: normaal\n" in texts(bot.channel.to("anna")) + "\n"
        assert bot.channel.to("bert") == []
    (case,) = bot.cases()
    assert case.urgency == "normaal" and case.urgency_reasons == []


async def test_danger_now_makes_it_spoed_with_the_reason(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router(ask_count=2)) as bot:
        await bot.script(["hallo", "1", "ja"])
        offer = texts(bot.channel.to("anna"))
        assert "Nieuwe zaak #1 (SPOED)" in offer and "• Urgentie: spoed (gevaar nu)" in offer
        assert bot.channel.to("bert"), "an urgent case asks several at once"
    (case,) = bot.cases()
    assert case.urgency == "spoed" and case.signals == ["danger"]


async def test_a_key_date_tomorrow_is_high(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(ONRUST_TOMORROW)
    (case,) = bot.cases()
    assert case.kind == "onrust" and case.status == "submitted"
    assert case.urgency == "hoog" and case.urgency_reasons == ["key_date_soon"]


async def test_an_expert_changes_the_level_and_it_holds_until_a_new_signal(
        db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await bot.script(CALM_INCIDENT)
        await bot.say("aannemen 1", who="anna")
        raised = await bot.say("urgentie 1 hoog", who="anna")
        assert "Zaak #1 heeft nu urgentie hoog." in texts(raised)
        unknown = await bot.say("urgentie 1 supersnel", who="anna")
        assert "spoed, hoog, normaal" in texts(unknown)
        await bot.say("Er staat niemand meer voor de deur, het is rustig.")
        (case,) = bot.cases()
        assert case.urgency == "hoog" and case.urgency_set_by == "anna"
        refused = await bot.say("urgentie 1 normaal", who="bert")
        assert "#1" in texts(refused) and bot.cases()[0].urgency == "hoog"
        await bot.say("hij staat nu weer voor mijn deur")
        (case,) = bot.cases()
        assert case.urgency == "spoed" and case.urgency_set_by is None, \
            "a new danger signal overrules the level chosen by hand"
        assert ("expert:anna", "urgency", 1, "hoog") in audit(bot)
        assert ("expert:bert", "denied", 1, None) in audit(bot)


async def test_a_waiting_case_made_urgent_by_the_coordinator_moves_on_sooner(
        db_url: str) -> None:
    async with routed_bot(db_url, router=make_router(escalation=3600, urgent=60)) as bot:
        await bot.script(CALM_INCIDENT)
        before = bot.cases()[0].escalate_at
        await bot.say("urgentie 1 spoed", who="carla")
        (case,) = bot.cases()
        assert case.urgency == "spoed" and case.escalate_at is not None and before is not None
        assert case.escalate_at < before - timedelta(minutes=50)


async def test_the_queue_lists_the_most_urgent_first(environment: str) -> None:
    async with Bot(environment) as bot:
        await bot.script(CALM_INCIDENT, who="calm")
        await bot.script(INCIDENT_SUBMITTED, who="high")
        await bot.script(["hallo", "1", "ja"], who="danger")
    listed = CliRunner().invoke(app, ["cases", "list"])
    assert listed.exit_code == 0, listed.output
    levels = [line.split()[3] for line in listed.output.splitlines()[1:4]]
    assert levels == ["SPOED", "HOOG", "NORMAAL"]


async def test_an_expert_s_own_cases_are_listed_most_urgent_first(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await bot.script(CALM_INCIDENT, who="calm")
        await bot.say("aannemen 1", who="anna")
        await bot.script(["hallo", "1", "ja"], who="danger")
        await bot.say("aannemen 2", who="anna")
        listed = texts(await bot.say("zaken", who="anna"))
        assert listed.index("• #2 incident (spoed)") < listed.index("• #1 incident (normaal)")
