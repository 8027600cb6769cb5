"""After an accept: an expert who took a case but has not written to the person (nor noted a
call or mail) in time is reminded; after the same time again the coordinators on call are
told, and may take it over with ``overdragen``, and the person is told honestly. The moment
lives in the case row (``contact_due_at``), so it survives a restart like the escalations."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.routing import Router, on_call_coordinators
from bot.write_buffer import TurnContext
from storage import cases as db
from storage.case_types import CaseInfo

log = logging.getLogger(__name__)

REMINDED, COORDINATORS_TOLD = 1, 2


def contact_due_after_accept(router: Router, now: datetime) -> dict[str, object]:
    """The case's values on an accept: the clock starts (unless it is off)."""
    seconds = router.settings.first_contact_seconds
    due = now + timedelta(seconds=seconds) if seconds > 0 else None
    return {"contact_due_at": due, "contact_reminders": 0}


def contact_made(turn: TurnContext, case: CaseInfo) -> None:
    """Its expert wrote to the person or noted the contact: nothing more to remind of."""
    if case.contact_due_at is not None:
        db.update_case(turn.db, case.id, turn.now, contact_due_at=None)


def remind_due(router: Router, turn: TurnContext) -> int:
    """Run every step that fell due; returns how many."""
    due = db.contact_due(turn.db, turn.now)
    for case in due:
        expert = router.roster.by_id(case.assigned_expert or "")
        if expert is None or case.blocked:  # left the roster (released soon) or no contact
            db.update_case(turn.db, case.id, turn.now, contact_due_at=None)
            continue
        # Since this expert took it (accepted_at is the first accept, also before a transfer):
        # each step fell due ``seconds`` after the one before, the first after the accept.
        seconds = router.settings.first_contact_seconds
        fell_due = case.contact_due_at or turn.now
        waited = (turn.now - fell_due).total_seconds() + seconds * (case.contact_reminders + 1)
        if case.contact_reminders < REMINDED:
            router.tell_expert(turn, case, expert, router.texts.t(
                "expert_contact_reminder", expert.language, case=case.id,
                wait=router.texts.wait(waited, expert.language)))
            db.update_case(turn.db, case.id, turn.now, contact_reminders=REMINDED,
                           contact_due_at=turn.now + timedelta(seconds=seconds))
            turn.audit("bot", "contact_reminder", case.id, expert.id)
            log.info("case.contact_reminder case=%s", case.id)
            continue
        for coordinator in on_call_coordinators(router.roster, turn.now):
            if coordinator.id != expert.id:
                router.tell_expert(turn, case, coordinator, router.texts.t(
                    "expert_contact_late", coordinator.language, case=case.id,
                    name=expert.first_name, wait=router.texts.wait(waited, coordinator.language),
                    specialties=", ".join(router.texts.specialty(s, coordinator.language)
                                          for s in case.specialties) or "-"))
        router.tell_person(turn, case, router.texts.t(
            "contact_late", case.language, name=expert.first_name))
        db.update_case(turn.db, case.id, turn.now, contact_reminders=COORDINATORS_TOLD,
                       contact_due_at=None)
        turn.audit("bot", "contact_late", case.id, expert.id)
        log.info("case.contact_late case=%s", case.id)
    return len(due)
