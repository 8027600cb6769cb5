"""Who is on call over a stretch of time, worked out from :meth:`Roster.on_call_at` itself
(weekly shifts, holiday shifts, overrides), so that what a calendar, the coordinator's page or
a change notice shows is what routing does: the time is cut where any shift, override or day
begins or ends, and each piece asked who is on call in it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from config.experts import Roster, parse_clock
from config.timezone import TIMEZONE


@dataclass(frozen=True)
class Span:
    """From ``start`` to ``end`` (aware, Amsterdam), these experts are on call for it."""

    start: datetime
    end: datetime
    specialty: str
    experts: tuple[str, ...]


def _boundaries(roster: Roster, start: datetime, end: datetime) -> list[datetime]:
    """Every local moment between ``start`` and ``end`` where who is on call may change."""
    schedule = roster.on_call
    every = (*schedule.shifts, *schedule.holiday_shifts)
    clocks = {time()} | {t for shift in every
                         for t in (parse_clock(shift.start), parse_clock(shift.end))
                         if t is not None}
    local_start = start.astimezone(TIMEZONE).replace(tzinfo=None)
    local_end = end.astimezone(TIMEZONE).replace(tzinfo=None)
    moments = {local_start, local_end}
    day = local_start.date()
    while day <= local_end.date():
        moments.update(datetime.combine(day, clock) for clock in clocks)
        day += timedelta(days=1)
    for override in schedule.overrides:
        moments.update((override.start, override.end))
    inside = sorted(m for m in moments if local_start <= m <= local_end)
    return [m.replace(tzinfo=TIMEZONE) for m in inside]


def spans(roster: Roster, start: datetime, end: datetime) -> Iterator[Span]:
    """Who is on call from ``start`` to ``end``, per specialty, as pieces that do not change
    inside; neighbours with the same experts are joined."""
    open_spans: dict[str, Span] = {}
    cuts = _boundaries(roster, start, end)
    for begin, finish in itertools.pairwise(cuts):
        if finish <= begin:
            continue
        on_call = roster.on_call_at(begin + (finish - begin) / 2)
        for specialty in set(open_spans) - set(on_call):
            yield open_spans.pop(specialty)
        for specialty, experts in on_call.items():
            current = open_spans.get(specialty)
            if current is not None and current.experts == experts and current.end == begin:
                open_spans[specialty] = Span(current.start, finish, specialty, experts)
                continue
            if current is not None:
                yield current
            open_spans[specialty] = Span(begin, finish, specialty, experts)
    yield from open_spans.values()


def shifts_by_expert(roster: Roster, start: datetime, end: datetime) -> dict[str, list[Span]]:
    """Every expert's own stretches on call, per specialty, in time order (the roster is
    worked out once for all of them)."""
    pieces: dict[str, list[Span]] = {}
    for span in spans(roster, start, end):
        for expert in span.experts:
            pieces.setdefault(expert, []).append(
                Span(span.start, span.end, span.specialty, (expert,)))
    return {expert: _joined(mine) for expert, mine in pieces.items()}


def shifts_of(roster: Roster, expert_id: str, start: datetime, end: datetime) -> list[Span]:
    """The expert's own stretches on call, per specialty, in time order."""
    return shifts_by_expert(roster, start, end).get(expert_id, [])


def _joined(mine: list[Span]) -> list[Span]:
    joined: list[Span] = []
    for span in sorted(mine, key=lambda s: (s.specialty, s.start)):
        if joined and joined[-1].specialty == span.specialty and joined[-1].end == span.start:
            joined[-1] = Span(joined[-1].start, span.end, span.specialty, span.experts)
        else:
            joined.append(span)
    return sorted(joined, key=lambda s: (s.start, s.specialty))
