"""The `weerbaar` admin command line, against a real database."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from bot.admin.cli import app
from bot.admin.stats import chart_panels, count_cells
from storage.database import create_db_engine
from storage.models import AcceptFact, CaseFact
from tests.conftest import TEST_KEY
from tests.harness import Bot
from tests.intake import INCIDENT_TO_SUMMARY

RUNNER = CliRunner()


@pytest.fixture
def environment(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("WEERBAAR_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("WEERBAAR_ENCRYPTION_KEYS", TEST_KEY)
    return sqlite_url


def _facts(url: str, rows: list[dict[str, object]]) -> None:
    engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.execute(insert(CaseFact), rows)
    engine.dispose()


def test_statistics_suppress_small_cells(environment: str, tmp_path: Path) -> None:
    base = {"month": "2026-10", "platform": "telegram", "how": "social_media", "role": "raadslid",
            "aangifte": "no", "urgent": False}
    _facts(environment, [{**base, "kind": "incident", "incident_type": "threat"}] * 6
           + [{**base, "kind": "onrust", "incident_type": None}] * 2)
    out, chart = tmp_path / "stats.csv", tmp_path / "stats.png"
    result = RUNNER.invoke(app, ["stats", "export", "--csv", str(out), "--png", str(chart)])
    assert result.exit_code == 0, result.output
    rows = {(r["month"], r["dimension"], r["value"]): r["count"]
            for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows[("2026-10", "total", "all")] == "8"
    assert rows[("2026-10", "kind", "incident")] == "6"
    assert rows[("2026-10", "kind", "onrust")] == "<5", "a small cell is not shown"
    assert rows[("2026-10", "incident_type", "unknown")] == "<5"
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_statistics_count_time_to_accept_in_bands(environment: str, tmp_path: Path) -> None:
    engine = create_db_engine(environment)
    with engine.begin() as connection:
        connection.execute(insert(AcceptFact), [
            *[{"month": "2026-10", "urgent": True, "seconds": 120, "escalated": False}] * 5,
            *[{"month": "2026-10", "urgent": False, "seconds": 2400, "escalated": True}] * 2])
    engine.dispose()
    out = tmp_path / "stats.csv"
    result = RUNNER.invoke(app, ["stats", "export", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    rows = {(r["month"], r["dimension"], r["value"]): r["count"]
            for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows[("2026-10", "accepted", "all")] == "7"
    assert rows[("2026-10", "time_to_accept", "within_5_min")] == "5"
    assert rows[("2026-10", "time_to_accept", "30_min_to_2_hours")] == "<5"
    assert rows[("2026-10", "escalated", "no")] == "5"
    assert rows[("2026-10", "escalated", "yes")] == "<5"


def test_the_chart_shows_time_to_accept_and_escalation_per_month(environment: str,
                                                                 tmp_path: Path) -> None:
    engine = create_db_engine(environment)
    with engine.begin() as connection:
        connection.execute(insert(AcceptFact), [
            *[{"month": "2026-10", "urgent": True, "seconds": 120, "escalated": False}] * 6,
            *[{"month": "2026-11", "urgent": False, "seconds": 2400, "escalated": True}] * 5,
            *[{"month": "2026-11", "urgent": False, "seconds": 9000, "escalated": True}] * 2])
    panels = {panel.title.split(" / ")[1]: panel for panel in chart_panels(count_cells(engine))}
    engine.dispose()
    accept = panels["Time until an expert accepted"]
    assert accept.months == ["2026-10", "2026-11"]
    assert accept.series == {"within_5_min": [6, 0], "30_min_to_2_hours": [0, 5],
                             "over_2_hours": [0, 0]}, "the cell of 2 is drawn as zero"
    assert panels["Had to be escalated"].series == {"no": [6, 0], "yes": [0, 7]}
    chart = tmp_path / "stats.png"
    result = RUNNER.invoke(app, ["stats", "export", "--csv", str(tmp_path / "s.csv"),
                                 "--png", str(chart)])
    assert result.exit_code == 0, result.output
    assert chart.read_bytes().startswith(b"\x89PNG")


async def test_cases_are_listed_without_their_content(environment: str) -> None:
    async with Bot(environment) as bot:
        await bot.script([*INCIDENT_TO_SUMMARY, "ja"], who="a")
        await bot.script(["hallo", "1", "ja"], who="b")
    result = RUNNER.invoke(app, ["cases", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "intake" in lines[1] and "SPOED" in lines[1], "the urgent case comes first"
    assert "submitted" in lines[2]
    assert "2 cases" in result.output
    assert "Ergenshuizen" not in result.output and "raadslid" not in result.output
    only = RUNNER.invoke(app, ["cases", "list", "--status", "submitted"])
    assert "1 case\n" in only.output


def test_upgrade_purge_and_rotate(environment: str) -> None:
    assert RUNNER.invoke(app, ["db", "upgrade"]).exit_code == 0
    purged = RUNNER.invoke(app, ["purge", "--days", "30"])
    assert purged.exit_code == 0 and "deleted 0 cases and 0 people" in purged.output
    off = RUNNER.invoke(app, ["purge", "--days", "0"])
    assert "retention is off" in off.output
    rotated = RUNNER.invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0 and "re-encrypted 0 values" in rotated.output
