"""The experts roster and on-call schedule (the file named by ``WEERBAAR_EXPERTS_FILE``).

Times in the file are Europe/Amsterdam wall-clock times, so a shift from 09:00 to 17:00 stays
09:00 to 17:00 across daylight-saving changes. Coordinators are the last step at all hours:
either every coordinator always, or, when the file has shifts for ``coordinator``, the
coordinators on those shifts; then those shifts must cover every hour of the week.
"""

from __future__ import annotations

import functools
import itertools
import os
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from config.channels import CHANNELS
from config.timezone import TIMEZONE

SPECIALTIES = ("rechtshulp", "communicatie", "nazorg", "beveiliging", "integriteit",
               "ondermijning", "onrust", "ervaringsdeskundige")
COORDINATOR = "coordinator"
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEK = timedelta(days=7)


class RosterError(Exception):
    """The experts file is not valid; the message says what is wrong (never a secret)."""


class RoleText(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nl: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.nl


class Expert(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    name: str = Field(min_length=1, max_length=100)
    address: str = Field(description="channel:id, e.g. telegram:123456 or matrix:@anna:hs.nl")
    specialties: tuple[str, ...] = ()
    languages: tuple[Literal["nl", "en"], ...] = ("nl",)
    max_open_cases: int = Field(default=5, ge=1, le=1000)
    coordinator: bool = False
    role: RoleText | None = None
    pager: str | None = Field(
        default=None, pattern=r"^\+[1-9][0-9]{7,14}$",
        description="Mobile number for paging (international form, +31612345678): an "
                    "urgent case this expert leaves unanswered is also sent here by SMS.")

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        channel, _, ident = value.partition(":")
        if channel not in CHANNELS or not ident:
            forms = [kind.address_form for kind in CHANNELS.values()]
            raise ValueError(f"address must be {', '.join(forms[:-1])} or {forms[-1]}")
        problem = CHANNELS[channel].check_address(ident)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("specialties")
    @classmethod
    def _specialties(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(SPECIALTIES))
        if unknown:
            raise ValueError(f"unknown specialties {unknown}; known: {list(SPECIALTIES)}")
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("give at least one language")
        return value

    @property
    def channel(self) -> str:
        return self.address.partition(":")[0]

    @property
    def channel_id(self) -> str:
        return self.address.partition(":")[2]

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    @property
    def language(self) -> str:
        return self.languages[0]


def parse_clock(value: str) -> time | None:
    """``HH:MM``; ``24:00`` (end of day) is returned as ``None``."""
    if value == "24:00":
        return None
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a time like 09:00") from exc


class Shift(BaseModel):
    """Weekly: these experts are on call for ``specialty`` on ``days`` from ``start`` to
    ``end``. An end before the start runs past midnight into the next day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specialty: str
    days: tuple[Day, ...] = DAYS
    start: str = "00:00"
    end: str = "24:00"
    experts: tuple[str, ...]

    @model_validator(mode="after")
    def _times(self) -> Shift:
        if parse_clock(self.start) is None:
            raise ValueError("start cannot be 24:00")
        parse_clock(self.end)
        if self.start == self.end:
            raise ValueError("start and end are the same")
        return self

    def windows(self, week_start: date) -> list[tuple[datetime, datetime]]:
        """Its local (naive) time windows in the week starting on Monday ``week_start``,
        plus the one running over from the Sunday before."""
        start = parse_clock(self.start)
        assert start is not None
        end = parse_clock(self.end)
        result = []
        for offset in range(-7, 7):
            day = week_start + timedelta(days=offset)
            if DAYS[day.weekday()] not in self.days:
                continue
            begin = datetime.combine(day, start)
            finish = (datetime.combine(day + timedelta(days=1), time()) if end is None
                      else datetime.combine(day, end))
            if finish <= begin:
                finish += timedelta(days=1)
            result.append((begin, finish))
        return result


class Override(BaseModel):
    """From ``start`` until ``end`` (local date and time), these experts replace the shifts of
    ``specialty``. An empty list means nobody (cases go on to the coordinator)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specialty: str
    start: datetime
    end: datetime
    experts: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _order(self) -> Override:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("give local Amsterdam times without a zone, like 2026-12-24T18:00")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Schedule(BaseModel):
    """``holiday_shifts``: on a Dutch public holiday (from 00:00 to 24:00) they replace the
    weekly shifts of the specialties they name; a holiday shift runs on every holiday, so it
    names no days. Overrides go above both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shifts: tuple[Shift, ...] = ()
    holiday_shifts: tuple[Shift, ...] = ()
    overrides: tuple[Override, ...] = ()

    @field_validator("holiday_shifts")
    @classmethod
    def _every_holiday(cls, value: tuple[Shift, ...]) -> tuple[Shift, ...]:
        if any(shift.days != DAYS for shift in value):
            raise ValueError("a holiday shift runs on every public holiday: leave out days")
        return value


class Roster(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    experts: tuple[Expert, ...] = ()
    on_call: Schedule = Schedule()

    @model_validator(mode="after")
    def _consistent(self) -> Roster:
        ids = [e.id for e in self.experts]
        if len(ids) != len(set(ids)):
            raise ValueError("two experts have the same id")
        addresses = [e.address for e in self.experts]
        if len(addresses) != len(set(addresses)):
            raise ValueError("two experts have the same address")
        if self.experts and not any(e.coordinator for e in self.experts):
            raise ValueError("name at least one coordinator (coordinator: true)")
        known = {e.id: e for e in self.experts}
        entries: list[Shift | Override] = [*self.on_call.shifts, *self.on_call.holiday_shifts,
                                           *self.on_call.overrides]
        for entry in entries:
            if entry.specialty not in (*SPECIALTIES, COORDINATOR):
                raise ValueError(f"unknown specialty {entry.specialty!r} in on_call")
            for expert_id in entry.experts:
                expert = known.get(expert_id)
                if expert is None:
                    raise ValueError(f"on_call names {expert_id!r}, who is not in experts")
                if entry.specialty == COORDINATOR and not expert.coordinator:
                    raise ValueError(f"{expert_id!r} has a coordinator shift but is not a "
                                     "coordinator")
        if any(s.specialty == COORDINATOR for s in self.on_call.shifts):
            self._check_coordinator_cover()
        if any(s.specialty == COORDINATOR for s in self.on_call.holiday_shifts):
            self._check_holiday_coordinator_cover()
        return self

    def _check_holiday_coordinator_cover(self) -> None:
        day = datetime(2024, 1, 1)
        windows = [w for s in self.on_call.holiday_shifts if s.specialty == COORDINATOR
                   and s.experts for w in s.windows(day.date())]
        moments = sorted({day, day + timedelta(days=1),
                          *(t for w in windows for t in w if day <= t <= day + timedelta(days=1))})
        for begin, end in itertools.pairwise(moments):
            middle = begin + (end - begin) / 2
            if not any(a <= middle < b for a, b in windows):
                raise ValueError(f"no coordinator on call on a holiday from {begin:%H:%M}: "
                                 "coordinator holiday shifts must cover the whole day")

    def _check_coordinator_cover(self) -> None:
        week_start = datetime(2024, 1, 1)  # a Monday
        week_end = week_start + WEEK
        windows = [w for s in self.on_call.shifts if s.specialty == COORDINATOR and s.experts
                   for w in s.windows(week_start.date())]
        inside = {t for w in windows for t in w if week_start <= t <= week_end}
        moments = sorted({week_start, week_end, *inside})
        for begin, end in itertools.pairwise(moments):
            middle = begin + (end - begin) / 2
            if not any(a <= middle < b for a, b in windows):
                raise ValueError(f"no coordinator on call on {DAYS[begin.weekday()]} from "
                                 f"{begin:%H:%M}: coordinator shifts must cover every hour")

    # -- lookups ---------------------------------------------------------------------------

    def pager_numbers(self) -> dict[str, str]:
        """Expert id -> pager number, of those who have one."""
        return {e.id: e.pager for e in self.experts if e.pager is not None}

    def by_id(self, expert_id: str) -> Expert | None:
        return next((e for e in self.experts if e.id == expert_id), None)

    def on_call_at(self, moment: datetime) -> dict[str, tuple[str, ...]]:
        """Who is on call at ``moment`` (an aware datetime): specialty -> expert ids, in the
        order the file gives them. ``coordinator`` is always present and never empty when
        the roster has experts."""
        local = moment.astimezone(TIMEZONE).replace(tzinfo=None)
        monday = local.date() - timedelta(days=local.weekday())
        result: dict[str, list[str]] = {}
        holiday_shifts = self.on_call.holiday_shifts
        replaced = {s.specialty for s in holiday_shifts} \
            if holiday_shifts and is_public_holiday(local.date()) else set()
        holiday_days = [day for day in (local.date() - timedelta(days=1), local.date())
                        if holiday_shifts and is_public_holiday(day)]
        for shift in self.on_call.shifts:
            if shift.specialty not in replaced \
                    and any(a <= local < b for a, b in shift.windows(monday)):
                bucket = result.setdefault(shift.specialty, [])
                bucket.extend(e for e in shift.experts if e not in bucket)
        for shift in holiday_shifts:
            windows = [w for w in shift.windows(monday) if w[0].date() in holiday_days]
            if any(a <= local < b for a, b in windows):
                bucket = result.setdefault(shift.specialty, [])
                bucket.extend(e for e in shift.experts if e not in bucket)
        for override in self.on_call.overrides:
            if override.start <= local < override.end:
                result[override.specialty] = list(override.experts)
        if not result.get(COORDINATOR):
            result[COORDINATOR] = [e.id for e in self.experts if e.coordinator]
        return {specialty: tuple(ids) for specialty, ids in result.items()}


@functools.cache
def _holidays() -> Any:
    """Loaded on first use: only a roster with holiday shifts asks."""
    import holidays

    return holidays.country_holidays("NL", language="nl")


def is_public_holiday(day: date) -> bool:
    """A Dutch public holiday (the ``holidays`` package's list for the Netherlands)."""
    return day in _holidays()


def holiday_name(day: date) -> str | None:
    name = _holidays().get(day)
    return str(name) if name is not None else None


def load_roster(path: Path | None) -> Roster:
    """The roster in ``path``; an empty roster when no file is configured."""
    if path is None:
        return Roster()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise RosterError(f"cannot read the experts file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise RosterError(f"the experts file {path} is not valid YAML: {exc}") from None
    try:
        return Roster.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}"
                             for e in exc.errors())
        raise RosterError(f"the experts file {path} is not valid: {problems}") from None


def save_roster(path: Path, roster: Roster) -> None:
    """Write the roster back (atomically), checked as it would be on load."""
    Roster.model_validate(roster.model_dump())
    data = roster.model_dump(mode="json", exclude_defaults=True)
    text = ("# Experts and on-call shifts of weerbaar-bot. Times are Europe/Amsterdam.\n"
            + yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".experts-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)
