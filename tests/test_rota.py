"""Rota comforts: shifts of their own on Dutch public holidays, an expert's shifts over time
(the same answer routing gives), and a notice to an expert whose shifts a change altered."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from bot.routing import Router, RoutingSettings
from config.experts import Roster
from config.shifts import shifts_of
from config.timezone import TIMEZONE
from tests.harness import FACTS, FLOWS, Bot, texts
from tests.routing_support import roster_data

CHRISTMAS_NOON = datetime(2026, 12, 25, 12, 0, tzinfo=TIMEZONE)
EVE_NOON = datetime(2026, 12, 24, 12, 0, tzinfo=TIMEZONE)


def with_holidays(**schedule: Any) -> Roster:
    data = roster_data()
    data["on_call"] = {"shifts": [
        {"specialty": "rechtshulp", "experts": ["anna"]},
        {"specialty": "nazorg", "experts": ["bert"]}], **schedule}
    return Roster.model_validate(data)


def test_holiday_shifts_replace_the_weekly_ones_of_their_specialty() -> None:
    roster = with_holidays(holiday_shifts=[
        {"specialty": "rechtshulp", "start": "10:00", "end": "16:00", "experts": ["bert"]}])
    assert roster.on_call_at(EVE_NOON)["rechtshulp"] == ("anna",)
    on_christmas = roster.on_call_at(CHRISTMAS_NOON)
    assert on_christmas["rechtshulp"] == ("bert",)
    assert on_christmas["nazorg"] == ("bert",)  # not named by a holiday shift: as every day
    # Outside the holiday shift's hours nobody is on call for it: cases go to the coordinator.
    assert "rechtshulp" not in roster.on_call_at(CHRISTMAS_NOON + timedelta(hours=6))
    # King's Day and Easter Monday too (the holidays package's Dutch list), not a normal Monday.
    assert roster.on_call_at(datetime(2026, 4, 27, 12, tzinfo=TIMEZONE))["rechtshulp"] == ("bert",)
    assert roster.on_call_at(datetime(2026, 4, 6, 12, tzinfo=TIMEZONE))["rechtshulp"] == ("bert",)
    assert roster.on_call_at(datetime(2026, 4, 13, 12, tzinfo=TIMEZONE))["rechtshulp"] == ("anna",)


def test_holiday_shifts_are_checked_like_the_others() -> None:
    with pytest.raises(ValidationError, match="leave out days"):
        with_holidays(holiday_shifts=[{"specialty": "rechtshulp", "days": ["mon"],
                                       "experts": ["bert"]}])
    with pytest.raises(ValidationError, match="not in experts"):
        with_holidays(holiday_shifts=[{"specialty": "rechtshulp", "experts": ["dirk"]}])
    with pytest.raises(ValidationError, match="cover the whole day"):
        with_holidays(holiday_shifts=[{"specialty": "coordinator", "start": "08:00",
                                       "end": "20:00", "experts": ["carla"]}])


def test_an_experts_shifts_over_two_weeks_follow_shifts_holidays_and_overrides() -> None:
    roster = with_holidays(
        shifts=[{"specialty": "rechtshulp", "days": ["mon", "tue", "wed", "thu", "fri"],
                 "start": "09:00", "end": "17:00", "experts": ["anna"]}],
        holiday_shifts=[{"specialty": "rechtshulp", "experts": ["bert"]}],
        overrides=[{"specialty": "rechtshulp", "start": "2026-12-22T09:00",
                    "end": "2026-12-22T13:00", "experts": ["bert"]}])
    start = datetime(2026, 12, 21, tzinfo=TIMEZONE)  # Monday
    anna = [(s.start.strftime("%a %H:%M"), s.end.strftime("%a %H:%M"))
            for s in shifts_of(roster, "anna", start, start + timedelta(days=7))]
    # Tuesday morning went to Bert; Christmas (Fri) to the holiday shift.
    assert anna == [("Mon 09:00", "Mon 17:00"), ("Tue 13:00", "Tue 17:00"),
                    ("Wed 09:00", "Wed 17:00"), ("Thu 09:00", "Thu 17:00")]
    bert = shifts_of(roster, "bert", start, start + timedelta(days=7))
    assert [(s.start.day, s.start.hour, s.end.day, s.end.hour) for s in bert
            if s.specialty == "rechtshulp"] == [(22, 9, 22, 13), (25, 0, 27, 0)]
    # Every stretch says the same as routing does at its middle.
    for span in bert:
        assert "bert" in roster.on_call_at(span.start + (span.end - span.start) / 2)[
            span.specialty]


async def test_an_expert_whose_shifts_an_override_changes_is_told(sqlite_url: str) -> None:
    now = datetime.now(TIMEZONE).replace(minute=0, second=0, microsecond=0)
    roster = Roster.model_validate(roster_data())
    router = Router(roster, FLOWS, FACTS, RoutingSettings())
    async with Bot(sqlite_url, router=router, channel_name="console") as bot:
        data = roster_data()
        start, end = now + timedelta(days=2), now + timedelta(days=2, hours=8)
        data["on_call"]["overrides"] = [{
            "specialty": "rechtshulp", "start": start.replace(tzinfo=None).isoformat(),
            "end": end.replace(tzinfo=None).isoformat(), "experts": ["bert"]}]
        await bot.engine.use_roster(Roster.model_validate(data))
        await bot.say("hallo")  # any batch after the change
        await bot.engine.drain()
        anna = texts(bot.channel.to("anna"))
        assert "Uw diensten zijn gewijzigd" in anna and "• vervallen: " in anna
        assert "juridische hulp" in anna
        # Bert was on call for it already (both are, on the weekly shift): no change for him.
        assert "Uw diensten zijn gewijzigd" not in texts(bot.channel.to("bert"))
        assert bot.channel.to("carla") == []
        # Told once, not again on the next batch.
        await bot.say("nog iets")
        assert texts(bot.channel.to("anna")).count("Uw diensten zijn gewijzigd") == 1
