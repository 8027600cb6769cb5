"""When the bot may send a check-in: within the allowed hours on allowed days, in
Europe/Amsterdam wall-clock time (so 09:00 stays 09:00 across daylight-saving changes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from config.timezone import TIMEZONE

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class SendingHours:
    start: time
    end: time
    days: frozenset[str]

    @classmethod
    def parse(cls, hours: str, days: Sequence[str]) -> SendingHours:
        """``hours`` like "09:00-20:00" ("00:00-24:00": all day); ``days`` like
        ["mon", ..., "sat"]."""
        first, _, last = (part.strip() for part in hours.partition("-"))
        start = time.fromisoformat(first)
        end = time.max if last == "24:00" else time.fromisoformat(last)
        if end <= start:
            raise ValueError("the sending hours must end after they start, on the same day")
        return cls(start, end, frozenset(days))

    def allows(self, moment: datetime) -> bool:
        local = moment.astimezone(TIMEZONE)
        return DAYS[local.weekday()] in self.days and self.start <= local.time() < self.end

    def next_allowed(self, moment: datetime) -> datetime:
        """``moment`` itself when sending is allowed then, else the next start of the
        sending hours on an allowed day (in UTC)."""
        if self.allows(moment):
            return moment
        local = moment.astimezone(TIMEZONE)
        day = local.date()
        if local.time() >= self.start:
            day += timedelta(days=1)
        for _ in range(8):
            if DAYS[day.weekday()] in self.days:
                # Built from the wall-clock time, so the zone's offset on that day applies.
                return datetime.combine(day, self.start, tzinfo=TIMEZONE).astimezone(UTC)
            day += timedelta(days=1)
        raise ValueError("no day of the week allows sending")

    def last_start_before(self, day: date) -> datetime:
        """The start of the sending hours on the last allowed day before ``day``: for a
        check-in that must come before a date even when the day before is not allowed."""
        for back in range(1, 9):
            earlier = day - timedelta(days=back)
            if DAYS[earlier.weekday()] in self.days:
                return datetime.combine(earlier, self.start, tzinfo=TIMEZONE).astimezone(UTC)
        raise ValueError("no day of the week allows sending")
