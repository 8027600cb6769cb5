"""The experts file: validation, on-call lookups in Amsterdam time across daylight saving,
overrides, coordinators at all hours, and who is asked first."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.routing import choose_experts
from config.experts import SPECIALTIES, Roster, RosterError, load_roster, save_roster
from tests.harness import FLOWS
from tests.routing_support import roster_data

ROOT = Path(__file__).resolve().parent.parent


def roster(**on_call: Any) -> Roster:
    data = roster_data()
    data["on_call"] = on_call
    return Roster.model_validate(data)


def test_the_example_file_is_valid_and_names_every_specialty_the_flows_use() -> None:
    example = load_roster(ROOT / "config" / "experts.example.yaml")
    assert {e.id for e in example.experts} == {"anna", "bert", "carla"}
    assert set(FLOWS.routing.specialties) == set(SPECIALTIES)


@pytest.mark.parametrize(("utc", "on_call"), [
    # Winter time (UTC+1): 08:30 UTC is 09:30 in Amsterdam.
    (datetime(2026, 1, 14, 8, 30, tzinfo=UTC), True),
    (datetime(2026, 1, 14, 7, 30, tzinfo=UTC), False),
    # Summer time (UTC+2): 07:30 UTC is 09:30 in Amsterdam.
    (datetime(2026, 7, 15, 7, 30, tzinfo=UTC), True),
    (datetime(2026, 7, 15, 15, 30, tzinfo=UTC), False),  # 17:30
    # The mornings the clocks change (29 March and 25 October 2026, both Sundays).
    (datetime(2026, 3, 29, 7, 0, tzinfo=UTC), True),  # 09:00 summer time
    (datetime(2026, 10, 25, 7, 30, tzinfo=UTC), False),  # 08:30 winter time
    (datetime(2026, 10, 25, 8, 0, tzinfo=UTC), True),  # 09:00 winter time
])
def test_shifts_follow_amsterdam_wall_clock_time(utc: datetime, on_call: bool) -> None:
    rota = roster(shifts=[{"specialty": "rechtshulp", "start": "09:00", "end": "17:00",
                           "experts": ["anna"]}])
    assert ("anna" in rota.on_call_at(utc).get("rechtshulp", ())) is on_call


def test_a_night_shift_runs_past_midnight_into_the_next_day() -> None:
    rota = roster(shifts=[{"specialty": "nazorg", "days": ["fri"], "start": "22:00",
                           "end": "06:00", "experts": ["bert"]}])
    saturday_early = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)  # Sat 05:00 Amsterdam
    saturday_late = datetime(2026, 11, 21, 21, 30, tzinfo=UTC)  # Sat 22:30
    assert rota.on_call_at(saturday_early)["nazorg"] == ("bert",)
    assert "nazorg" not in rota.on_call_at(saturday_late)


def test_an_override_replaces_the_shift_and_an_empty_one_leaves_the_coordinator() -> None:
    rota = roster(shifts=[{"specialty": "rechtshulp", "experts": ["anna"]}],
                  overrides=[{"specialty": "rechtshulp", "start": "2026-12-25T00:00",
                              "end": "2026-12-26T00:00", "experts": ["bert"]},
                             {"specialty": "rechtshulp", "start": "2026-12-31T18:00",
                              "end": "2027-01-01T12:00", "experts": []}])
    christmas = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert rota.on_call_at(christmas)["rechtshulp"] == ("bert",)
    assert rota.on_call_at(new_year)["rechtshulp"] == ()
    assert rota.on_call_at(new_year)["coordinator"] == ("carla",)
    assert choose_experts(rota, new_year, ["rechtshulp"], "nl", {}, set(), 3) == []


@pytest.mark.parametrize(("change", "message"), [
    ({"experts": [{"id": "x", "name": "X", "address": "telegram:abc"}]}, "numeric"),
    ({"experts": [{"id": "x", "name": "X", "address": "sms:0612345678"}]}, "address must be"),
    ({"experts": [{"id": "x", "name": "X", "address": "console:x"}]}, "coordinator"),
    ({"experts": [{"id": "x", "name": "X", "address": "console:x", "coordinator": True,
                   "specialties": ["juggling"]}]}, "unknown specialties"),
    ({"on_call": {"shifts": [{"specialty": "rechtshulp", "experts": ["nobody"]}]}},
     "not in experts"),
    ({"on_call": {"shifts": [{"specialty": "coordinator", "days": ["mon"],
                              "experts": ["carla"]}]}}, "no coordinator on call on tue"),
    ({"on_call": {"shifts": [{"specialty": "coordinator", "experts": ["anna"]}]}},
     "is not a coordinator"),
])
def test_a_bad_experts_file_is_refused_clearly(tmp_path: Path, change: dict[str, Any],
                                               message: str) -> None:
    data = {**roster_data(), **change}
    path = tmp_path / "experts.yaml"
    import yaml

    path.write_text(yaml.safe_dump(data), "utf-8")
    with pytest.raises(RosterError, match=message):
        load_roster(path)


def test_coordinator_shifts_that_cover_the_week_are_accepted() -> None:
    with pytest.raises(ValueError, match="no coordinator on call on mon from 00:00"):
        roster(shifts=[{"specialty": "coordinator", "days": ["mon", "tue", "wed", "thu", "fri"],
                        "start": "08:00", "end": "20:00",
                        "experts": ["carla"]},
                       {"specialty": "coordinator", "days": ["sat", "sun"],
                        "experts": ["carla"]}])
    rota = roster(shifts=[
        {"specialty": "coordinator", "days": ["mon", "tue", "wed", "thu", "fri"],
         "start": "08:00", "end": "20:00", "experts": ["carla"]},
        {"specialty": "coordinator", "days": ["sun", "mon", "tue", "wed", "thu", "fri"],
         "start": "20:00", "end": "08:00", "experts": ["carla"]},
        {"specialty": "coordinator", "days": ["sat", "sun"], "experts": ["carla"]},
    ])
    assert rota.on_call_at(datetime(2026, 11, 22, 3, 0, tzinfo=UTC))["coordinator"] == (
        "carla",)


def test_the_least_busy_expert_who_speaks_the_language_is_asked_first() -> None:
    rota = roster(shifts=[{"specialty": "rechtshulp", "experts": ["anna", "bert"]}])
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    first = choose_experts(rota, now, ["rechtshulp"], "nl", {"anna": 2, "bert": 1}, set(), 1)
    assert [e.id for e in first] == ["bert"]
    english = choose_experts(rota, now, ["rechtshulp"], "en", {}, set(), 2)
    assert [e.id for e in english] == ["anna", "bert"]  # Bert speaks no English
    full = choose_experts(rota, now, ["rechtshulp"], "nl", {"anna": 5, "bert": 0}, {"bert"}, 1)
    assert full == []  # Anna is at her maximum, Bert was asked already


def test_saving_and_loading_gives_the_same_roster(tmp_path: Path) -> None:
    rota = roster(shifts=[{"specialty": "rechtshulp", "start": "09:00", "end": "17:00",
                           "experts": ["anna"]}])
    save_roster(tmp_path / "experts.yaml", rota)
    assert load_roster(tmp_path / "experts.yaml") == rota
