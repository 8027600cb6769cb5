"""Check-ins as a new user tries them: the bot as a process on the console, a plan in seconds,
and a SIGKILL while a check-in is pending."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.checkin_support import CHECKIN_HELLO, time_passes
from tests.console_process import ConsoleBot
from tests.intake import INCIDENT_SUBMITTED

pytestmark = pytest.mark.slow  # starts the bot as a process

SUBMITTED = "Uw melding is doorgegeven"


def plan_in_seconds(seconds: int) -> dict[str, str]:
    return {"WEERBAAR_CHECKIN_PLANS": f'{{"incident": [{{"after": "{seconds}s"}}]}}',
            "WEERBAAR_CHECKIN_HOURS": "00:00-24:00",
            "WEERBAAR_CHECKIN_DAYS": "mon,tue,wed,thu,fri,sat,sun"}


def statuses(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / "weerbaar.db") as db:
        return [s for (s,) in db.execute("SELECT status FROM checkins ORDER BY id")]


def test_a_checkin_arrives_on_the_console(tmp_path: Path) -> None:
    bot = ConsoleBot(tmp_path, **plan_in_seconds(2))
    try:
        bot.type(*INCIDENT_SUBMITTED)
        bot.wait_for(SUBMITTED)
        bot.wait_for(CHECKIN_HELLO)
        bot.type("4", "goed", "nee", "ja")
        bot.wait_for("Dank u wel voor uw antwoorden")
        assert bot.finish() == 0
    finally:
        bot.process.kill()
    assert bot.output.count(CHECKIN_HELLO) == 1
    assert statuses(tmp_path) == ["sent"]


def test_killed_while_a_checkin_is_pending_it_is_sent_exactly_once(tmp_path: Path) -> None:
    first = ConsoleBot(tmp_path, **plan_in_seconds(3600))
    try:
        first.type(*INCIDENT_SUBMITTED)
        first.wait_for(SUBMITTED)
        first.kill()  # SIGKILL, before the check-in falls due
    finally:
        first.process.kill()
    assert CHECKIN_HELLO not in first.output
    assert statuses(tmp_path) == ["planned"]
    time_passes(f"sqlite:///{tmp_path / 'weerbaar.db'}", 3601)  # down while it falls due
    second = ConsoleBot(tmp_path, **plan_in_seconds(3600))
    try:
        second.wait_for(CHECKIN_HELLO)
        assert second.finish() == 0
    finally:
        second.process.kill()
    assert statuses(tmp_path) == ["sent"]
    third = ConsoleBot(tmp_path, **plan_in_seconds(3600))
    try:
        third.type("hulp")  # up and answering: a check-in due now would have come first
        third.wait_for("Deze woorden werken altijd:")
        assert third.finish() == 0
    finally:
        third.process.kill()
    assert (first.output + second.output + third.output).count(CHECKIN_HELLO) == 1
