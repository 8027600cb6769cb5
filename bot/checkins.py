"""Check-ins (nazorg): planning them when a case is submitted, and sending one when it falls
due. Runs in the engine's database thread, inside the batch transaction: a check-in is marked
sent in the same transaction that queues its message, so it is never sent twice; its
conversation starts in that transaction too.

The scheduling itself (when to wake up) is APScheduler's (``bot/scheduler.py``); this module
decides what happens then.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection

from bot.conversation import ACTIVE, ConversationLogic
from bot.metrics import Metrics
from bot.write_buffer import TurnContext
from config.sending_hours import SendingHours
from config.settings import CheckinStep
from config.timezone import TIMEZONE
from storage import cases
from storage import checkins as db
from storage import repository as repo

log = logging.getLogger(__name__)

CHECKIN_FLOWS = {False: "checkin", True: "checkin_lasting"}
_AFTER = re.compile(r"^(key([+-]))?(\d+(?:\.\d+)?)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# While a person is in the middle of something, a check-in waits a little.
BUSY_FOR = timedelta(minutes=30)
RETRY_WHEN_BUSY = timedelta(hours=1)
RETRY_WITH_EXPERT = timedelta(days=1)


@dataclass(frozen=True)
class CheckinSettings:
    plans: dict[str, list[CheckinStep]]
    hours: SendingHours
    grace: timedelta


def due_time(step: CheckinStep, submitted: datetime, key_date: date | None) -> datetime | None:
    """When a plan step falls due, before quiet hours; None for a key-date step without one."""
    match = _AFTER.match(step.after)
    assert match is not None, "checked by the settings"
    _, sign, amount, unit = match.groups()
    offset = timedelta(seconds=float(amount) * _UNIT_SECONDS[unit])
    if sign is None:
        return submitted + offset
    if key_date is None:
        return None
    base = datetime.combine(key_date, time(), tzinfo=TIMEZONE)
    return base + offset if sign == "+" else base - offset


class CheckinDesk:
    def __init__(self, settings: CheckinSettings, logic: ConversationLogic,
                 metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.logic = logic
        self.metrics = metrics or Metrics()

    # -- planning ----------------------------------------------------------------------------

    def plan(self, turn: TurnContext, *, case_id: int, person_id: int, kind: str,
             answers: dict[str, Any]) -> None:
        """Plan the check-ins of a case that was just submitted."""
        value = (answers.get("key_date") or {}).get("value")
        key_date = date.fromisoformat(value) if value else None
        for lasting, due in self.times(kind, turn.now, key_date):
            self.add(turn, case_id=case_id, person_id=person_id, lasting=lasting, due=due)

    def times(self, kind: str, submitted: datetime,
              key_date: date | None) -> list[tuple[bool, datetime]]:
        """(lasting, when) of each check-in of the plan for ``kind``, within the sending
        hours; a step before the key date stays before it."""
        hours, result = self.settings.hours, []
        for step in self.settings.plans.get(kind, []):
            due = due_time(step, submitted, key_date)
            if due is None:
                continue
            due = hours.next_allowed(due)
            if (key_date is not None and step.after.startswith("key-")
                    and due.astimezone(TIMEZONE).date() >= key_date):
                due = hours.last_start_before(key_date)
            if due >= submitted:
                result.append((step.lasting, due))
        return result

    def add(self, turn: TurnContext, *, case_id: int, person_id: int, lasting: bool,
            due: datetime | None) -> datetime | None:
        """One check-in at ``due`` (moved into the sending hours); None if that has passed."""
        if due is None or due < turn.now:
            return None
        due = self.settings.hours.next_allowed(due)
        checkin_id = db.insert_checkin(turn.db, person_id=person_id, case_id=case_id, due_at=due,
                                       lasting=lasting, now=turn.now)
        turn.writes.planned_checkins.append((checkin_id, due))
        log.info("checkin.planned checkin=%s case=%s", checkin_id, case_id)
        return due

    def cancel(self, cx: Connection, *, person_id: int | None = None,
               case_id: int | None = None) -> int:
        """Cancel planned check-ins. Their wake-up may still come; it then finds nothing."""
        ids = db.cancel(cx, person_id=person_id, case_id=case_id)
        if ids:
            log.info("checkin.cancelled count=%d", len(ids))
        return len(ids)

    # -- sending -----------------------------------------------------------------------------

    def send_due(self, turn: TurnContext, checkin_ids: Sequence[int]) -> int:
        """Send the check-ins that fell due; returns how many went out."""
        sent = 0
        for row in db.load(turn.db, checkin_ids):
            if row.status != db.PLANNED:
                continue
            if turn.now - row.due_at > self.settings.grace:
                db.set_status(turn.db, row.id, db.SKIPPED)
                log.info("checkin.skipped checkin=%s reason=too_late", row.id)
                self.metrics.checkins.labels("skipped").inc()
                continue
            later = self._not_now(turn.db, row, turn.now)
            if later is not None:
                db.move(turn.db, row.id, later)
                turn.writes.planned_checkins.append((row.id, later))
                self.metrics.checkins.labels("postponed").inc()
                continue
            if not db.mark_sent(turn.db, row.id, turn.now):
                continue
            self._start(turn, row)
            self.metrics.checkins.labels("sent").inc()
            sent += 1
        return sent

    def _not_now(self, cx: Connection, row: db.CheckinRow, now: datetime) -> datetime | None:
        """A later moment when this is not the time: quiet hours, the person busy with
        something else, or an expert already talking with them."""
        hours = self.settings.hours
        if not hours.allows(now):
            return hours.next_allowed(now)
        if cases.assigned_case_of_person(cx, row.person_id) is not None:
            return hours.next_allowed(now + RETRY_WITH_EXPERT)
        current = db.current_conversation(cx, row.person_id)
        if current is not None:
            _, status, updated = current
            if status == ACTIVE and now - updated < BUSY_FOR:
                return hours.next_allowed(now + RETRY_WHEN_BUSY)
        return None

    def _start(self, turn: TurnContext, row: db.CheckinRow) -> None:
        outcome = self.logic.begin(CHECKIN_FLOWS[row.lasting], row.language,
                                   {"checkin_case": row.case_id, "checkin_id": row.id})
        conversation_id = repo.insert_conversation(
            turn.db, row.person_id, flow=outcome.flow, state=outcome.state, status=outcome.status,
            language=outcome.language, data=outcome.data)
        for reply in outcome.replies:
            turn.writes.post(turn.result, channel=row.channel, address=row.address, text=reply.text,
                             language=row.language, person_id=row.person_id,
                             conversation_id=conversation_id, case_id=row.case_id,
                             options=reply.options)
        turn.audit("bot", "checkin", row.case_id)
        log.info("checkin.sent checkin=%s case=%s", row.id, row.case_id)
