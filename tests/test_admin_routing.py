"""`weerbaar experts`, `oncall`, `cases show` and `audit` against a real experts file and
database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.admin.cli import app
from config.experts import load_roster
from tests.conftest import TEST_KEY
from tests.intake import INCIDENT_SUBMITTED
from tests.routing_support import make_router, routed_bot

RUNNER = CliRunner()
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def experts(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "experts.yaml"
    path.write_text((ROOT / "config" / "experts.example.yaml").read_text("utf-8"), "utf-8")
    monkeypatch.setenv("WEERBAAR_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("WEERBAAR_ENCRYPTION_KEYS", TEST_KEY)
    monkeypatch.setenv("WEERBAAR_EXPERTS_FILE", str(path))
    return path


def test_experts_add_list_and_remove(experts: Path) -> None:
    added = RUNNER.invoke(app, ["experts", "add", "--id", "dirk", "--name", "Dirk de Boer",
                                "--address", "telegram:4242", "--specialty", "beveiliging",
                                "--language", "nl", "--max-open", "2"])
    assert added.exit_code == 0, added.output
    assert "the running bot uses it within 10 s" in added.output
    listed = RUNNER.invoke(app, ["experts", "list"]).output
    assert "dirk" in listed and "telegram:4242" in listed and "beveiliging" in listed
    assert load_roster(experts).by_id("dirk") is not None
    assert RUNNER.invoke(app, ["experts", "remove", "bert"]).exit_code == 0
    roster = load_roster(experts)
    assert roster.by_id("bert") is None
    assert all("bert" not in shift.experts for shift in roster.on_call.shifts)


def test_a_change_that_breaks_the_roster_is_not_saved(experts: Path) -> None:
    before = experts.read_text("utf-8")
    result = RUNNER.invoke(app, ["experts", "remove", "carla"])  # the only coordinator
    assert result.exit_code == 2 and "coordinator" in result.output
    bad = RUNNER.invoke(app, ["experts", "add", "--id", "x", "--name", "X", "--address",
                              "telegram:abc"])
    assert bad.exit_code == 2 and "numeric" in bad.output
    assert experts.read_text("utf-8") == before


def test_oncall_show_and_override(experts: Path) -> None:
    shown = RUNNER.invoke(app, ["oncall", "show", "--at", "2026-11-23T10:00"])
    assert shown.exit_code == 0, shown.output
    assert "rechtshulp" in shown.output and "anna, bert" in shown.output
    assert "onrust" in shown.output and "carla" in shown.output
    result = RUNNER.invoke(app, ["oncall", "override", "--specialty", "rechtshulp",
                                 "--start", "2026-11-30T00:00", "--end", "2026-12-01T00:00",
                                 "--expert", "bert"])
    assert result.exit_code == 0, result.output
    monday = RUNNER.invoke(app, ["oncall", "show", "--at", "2026-11-30T12:00"]).output
    assert "rechtshulp           bert" in monday


async def test_cases_show_is_audited(experts: Path, sqlite_url: str) -> None:
    async with routed_bot(sqlite_url, make_router()) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        await bot.attach("photo")
        await bot.share_location(52.09, 5.12)
        await bot.say("aannemen 1", who="anna")
        await bot.say("notitie 1 terugbellen", who="anna")
    shown = RUNNER.invoke(app, ["cases", "show", "1", "--as", "coordinator-jan"])
    assert shown.exit_code == 0, shown.output
    assert "files kept: 1, locations: 1, contact cards: 0" in shown.output
    assert "Gemeente Ergenshuizen" in shown.output
    assert "handoff: anna accepted" in shown.output
    assert "note by anna: terugbellen" in shown.output
    audit = RUNNER.invoke(app, ["audit", "list", "--case", "1"]).output
    assert "cli:coordinator-jan" in audit and "read" in audit
    assert "expert:anna" in audit and "accept" in audit
