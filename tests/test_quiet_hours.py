"""Sending hours for check-ins in Amsterdam wall-clock time, across daylight-saving changes,
and the times a plan gives."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from config import Settings
from config.sending_hours import DAYS, SendingHours
from config.timezone import TIMEZONE
from tests.checkin_support import checkin_desk

DEFAULT = SendingHours.parse(Settings().checkin_hours, Settings().checkin_days)
EVERY_DAY = SendingHours.parse("09:00-20:00", DAYS)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0,
        second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_the_defaults_are_nine_to_eight_and_not_on_sunday() -> None:
    assert DEFAULT.allows(utc(2026, 11, 23, 8, 0))  # Monday 09:00 CET
    assert not DEFAULT.allows(utc(2026, 11, 23, 7, 59))  # 08:59
    assert not DEFAULT.allows(utc(2026, 11, 23, 19, 0))  # 20:00
    assert not DEFAULT.allows(utc(2026, 11, 22, 12, 0))  # Sunday


def test_saturday_night_waits_for_monday_morning() -> None:
    assert DEFAULT.next_allowed(utc(2026, 11, 21, 20, 0)) == utc(2026, 11, 23, 8, 0)


def test_the_autumn_change_keeps_nine_oclock() -> None:
    # 25 October 2026, a Sunday: clocks go back from 03:00 CEST to 02:00 CET.
    saturday_morning = EVERY_DAY.next_allowed(utc(2026, 10, 24, 5, 0))
    sunday_morning = EVERY_DAY.next_allowed(utc(2026, 10, 25, 0, 30))  # 02:30 CEST
    assert saturday_morning == utc(2026, 10, 24, 7, 0)  # 09:00 CEST is 07:00 UTC
    assert sunday_morning == utc(2026, 10, 25, 8, 0)  # 09:00 CET is 08:00 UTC
    assert sunday_morning.astimezone(TIMEZONE).hour == 9
    # With the default days, Saturday evening after the change window goes to Monday 09:00 CET.
    assert DEFAULT.next_allowed(utc(2026, 10, 24, 18, 30)) == utc(2026, 10, 26, 8, 0)
    # 19:30 CET on the Sunday of the change is still within the hours (one hour "longer" day).
    assert EVERY_DAY.allows(utc(2026, 10, 25, 18, 30))


def test_the_spring_change_keeps_nine_oclock() -> None:
    # 28 March 2027, a Sunday: clocks go forward from 02:00 CET to 03:00 CEST.
    assert EVERY_DAY.next_allowed(utc(2027, 3, 27, 21, 0)) == utc(2027, 3, 28, 7, 0)
    assert EVERY_DAY.next_allowed(utc(2027, 3, 26, 21, 0)) == utc(2027, 3, 27, 8, 0)
    assert not EVERY_DAY.allows(utc(2027, 3, 28, 6, 59))  # 08:59 CEST
    assert EVERY_DAY.allows(utc(2027, 3, 28, 7, 0))
    assert DEFAULT.next_allowed(utc(2027, 3, 27, 21, 0)) == utc(2027, 3, 29, 7, 0)


def test_all_day_means_every_moment() -> None:
    always = SendingHours.parse("00:00-24:00", DAYS)
    assert always.allows(utc(2026, 11, 22, 22, 59, 59))  # 23:59:59 in Amsterdam
    assert always.allows(utc(2026, 11, 22, 23, 0))


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31),
                    timezones=st.just(UTC)))
def test_the_next_allowed_moment_is_allowed_and_never_earlier(moment: datetime) -> None:
    after = DEFAULT.next_allowed(moment)
    assert after >= moment and DEFAULT.allows(after)
    assert after - moment < timedelta(days=2, hours=14)
    if after != moment:  # moved: to the very start of the hours, so nothing was skipped
        local = after.astimezone(TIMEZONE)
        assert (local.hour, local.minute) == (9, 0)
        assert not DEFAULT.allows(after - timedelta(minutes=1))


def test_the_incident_plan_follows_aftercare_practice() -> None:
    desk = checkin_desk("1d", "14d", "42d", "90d", hours=DEFAULT)
    submitted = utc(2026, 11, 23, 22, 0)  # Monday 23:00
    times = [due.astimezone(TIMEZONE) for _, due in desk.times("incident", submitted, None)]
    assert [t.date() for t in times] == [date(2026, 11, 25), date(2026, 12, 8),
                                          date(2027, 1, 5), date(2027, 2, 22)]
    assert all((t.hour, t.minute) == (9, 0) for t in times)


def test_onrust_checks_in_before_and_after_the_key_date() -> None:
    desk = checkin_desk(hours=DEFAULT)
    desk.settings.plans["onrust"] = Settings().checkin_plans["onrust"]
    submitted = utc(2026, 11, 23, 10, 0)
    wednesday = [d.astimezone(TIMEZONE) for _, d in
                 desk.times("onrust", submitted, date(2026, 12, 2))]
    assert [(d.date(), d.hour) for d in wednesday] == [(date(2026, 12, 1), 9),
                                                       (date(2026, 12, 3), 9)]
    # The key date is a Monday: the day before is a Sunday, so Saturday, still before it.
    monday = [d.astimezone(TIMEZONE) for _, d in
              desk.times("onrust", submitted, date(2026, 12, 7))]
    assert [d.date() for d in monday] == [date(2026, 12, 5), date(2026, 12, 8)]
    assert desk.times("onrust", submitted, None) == [], "no key date, no check-ins"
