"""An expert's shifts as an iCalendar feed (RFC 5545, with the ``icalendar`` package) for a
calendar app to subscribe to: the coming eight weeks, worked out as routing does (weekly
shifts, holidays, overrides), in the expert's language, without any case or person."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from config.experts import COORDINATOR, Expert, Roster
from config.shifts import shifts_of
from config.timezone import TIMEZONE
from flows import FlowSet

AHEAD = timedelta(weeks=8)
TITLE = {"nl": "Dienst Weerbaar Bestuur: {what}", "en": "Weerbaar Bestuur shift: {what}"}
COORDINATOR_NAME = {"nl": "coördinator", "en": "coordinator"}


def calendar_feed(roster: Roster, expert: Expert, flows: FlowSet, now: datetime) -> bytes:
    language = "en" if expert.language == "en" else "nl"
    calendar = Calendar()
    calendar.add("prodid", "-//weerbaar-bot//rota//NL")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", TITLE[language].format(what=expert.first_name))
    # From the start of today, so the same shifts keep the same ids from one fetch to the next.
    today = now.astimezone(TIMEZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    for span in shifts_of(roster, expert.id, today, today + AHEAD):
        label = flows.routing.specialties.get(span.specialty)
        what = COORDINATOR_NAME[language] if span.specialty == COORDINATOR else (
            label.get(language) if label else span.specialty)
        event = Event()
        event.add("uid", f"{expert.id}-{span.specialty}-{span.start:%Y%m%dT%H%M%z}@weerbaar")
        event.add("dtstamp", now)
        event.add("dtstart", span.start)
        event.add("dtend", span.end)
        event.add("summary", TITLE[language].format(what=what))
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
