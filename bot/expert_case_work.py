"""Working on a case the expert has: closing it, transferring it, notes, check-ins, urgency,
verification, switching between cases, the list of cases, and (for coordinators) the audit
log."""

from __future__ import annotations

import logging
from dataclasses import replace

from pydantic import ValidationError

from bot.case_marks import (
    UNDO_WORDS,
    level_label,
    pick_level,
    set_urgency,
    set_verified,
)
from bot.case_moves import next_status
from bot.checkins import due_time
from bot.expert_base import ExpertBase
from bot.first_contact import contact_made
from config.settings import CheckinStep
from config.timezone import TIMEZONE
from flows.text import normalize
from flows.triage import RANK
from storage import cases as db
from storage import checkins as checkin_db
from storage.case_status import CaseStatus, OfferStatus

log = logging.getLogger(__name__)


class CaseWork(ExpertBase):
    def read_audit(self, case_id: int) -> None:
        """A coordinator reads who did what with a case; the read is audited too."""
        if not self.expert.coordinator:
            self.audit("denied", case_id, "audit")
            self.say("expert_audit_coordinators_only")
            return
        entries = db.audit_entries(self.db, case_id)
        self.audit("audit_read", case_id)
        if not entries:
            self.say("expert_audit_empty", case=case_id)
            return
        lines = [f"{at:%Y-%m-%d %H:%M} {actor} {action}{' ' + detail if detail else ''}"
                 for at, actor, action, detail in entries]
        self.say("expert_audit", case=case_id, entries="\n".join(lines))

    def close(self, case_id: int, rest: str) -> None:
        case = self.my_case(case_id, coordinator_may=True)
        if case is None:
            return
        outcome = self.pick(rest, self.router.flows.routing.outcomes)
        if outcome is None:
            self.say("expert_close_usage", case=case.id, **self.lists())
            return
        now = self.turn.now
        db.update_case(self.db, case.id, now, status=next_status(case.status, "close"),
                       closed_at=now, outcome=outcome, escalate_at=None)
        pending = [h.id for h in db.handoffs_of_case(self.db, case.id)
                   if h.status == OfferStatus.ASKED]
        db.set_handoff_status(self.db, pending, OfferStatus.WITHDRAWN, now)
        if case.conversation_id is not None:
            db.close_conversation(self.db, case.conversation_id)
        self.clear_session(case.id)
        self.audit("close", case.id, outcome)
        log.info("case.closed case=%s outcome=%s", case.id, outcome)
        self.say("expert_closed", case=case.id,
                 outcome=self.texts.outcome(outcome, self.language))
        self.router.tell_person(self.turn, case, self.texts.t(
            "closed", case.language, name=self.expert.first_name))

    def transfer(self, case_id: int, rest: str) -> None:
        case = self.my_case(case_id, coordinator_may=True)
        if case is None:
            return
        specialty = self.pick(rest, self.router.flows.routing.specialties)
        if specialty is None:
            self.say("expert_transfer_usage", case=case.id, **self.lists())
            return
        now = self.turn.now
        mine = [h.id for h in db.handoffs_of_case(self.db, case.id)
                if h.status == OfferStatus.ACCEPTED and h.expert == case.assigned_expert]
        db.set_handoff_status(self.db, mine, OfferStatus.TRANSFERRED, now)
        db.update_case(self.db, case.id, now, status=next_status(case.status, "transfer"),
                       assigned_expert=None, specialties=[specialty], escalation_level=0)
        self.clear_session(case.id)
        self.audit("transfer", case.id, specialty)
        log.info("case.transferred case=%s specialty=%s", case.id, specialty)
        self.say("expert_transferred", case=case.id,
                 specialty=self.texts.specialty(specialty, self.language))
        self.router.tell_person(self.turn, case, self.texts.t(
            "transferred", case.language, name=self.expert.first_name,
            specialty=self.texts.specialty(specialty, case.language)))
        moved = db.load_case(self.db, case.id)
        assert moved is not None
        self.router.ask_next(self.turn, moved)

    def note(self, case_id: int, rest: str) -> None:
        """An internal note; one by a colleague reading along or a coordinator is also sent
        to the expert who has the case."""
        case = self.my_case(case_id, coordinator_may=True, consultant_may=True)
        if case is None:
            return
        if not rest:
            self.say("expert_note_usage", case=case.id)
            return
        db.add_note(self.db, case.id, self.expert.id, rest, self.turn.now)
        if case.is_with(self.expert.id):  # for a call or a mail: contact was made
            contact_made(self.turn, case)
        self.audit("note", case.id)
        self.say("expert_noted", case=case.id)
        holder = self.router.roster.by_id(case.assigned_expert or "") \
            if case.status == CaseStatus.ASSIGNED else None
        if holder is not None and holder.id != self.expert.id:
            self.router.tell_expert(self.turn, case, holder, self.texts.t(
                "expert_colleague_note", holder.language, case=case.id,
                name=self.expert.first_name, text=rest))

    def aftercare(self, case_id: int, rest: str) -> None:
        """Plan the case's check-ins ('nazorg 12'), add one ('nazorg 12 3d') or cancel them
        ('nazorg 12 stop')."""
        desk = self.desk.checkins
        case = self.my_case(case_id, coordinator_may=True)
        if case is None:
            return
        if desk is None:
            self.say("expert_aftercare_none", case=case.id)
            return
        word = normalize(rest)
        if word in ("stop", "annuleer", "cancel"):
            desk.cancel(self.db, case_id=case.id)
            self.audit("aftercare", case.id, "cancel")
            self.say("expert_aftercare_cancelled", case=case.id)
            return
        if word:
            try:
                step = CheckinStep(after=word.replace(" ", ""))
            except ValidationError:
                self.say("expert_aftercare_usage", case=case.id)
                return
            desk.add(self.turn, case_id=case.id, person_id=case.person_id,
                     lasting=False, due=due_time(step, self.turn.now, None))
        elif not checkin_db.planned_for_case(self.db, case.id):
            _, answers, _ = self.router.answers(self.db, case)
            desk.plan(self.turn, case_id=case.id, person_id=case.person_id,
                      kind=case.kind, answers=answers)
        self.audit("aftercare", case.id, word or "plan")
        planned = checkin_db.planned_for_case(self.db, case.id)
        if not planned:
            self.say("expert_aftercare_none", case=case.id)
            return
        dates = ", ".join(f"{due.astimezone(TIMEZONE):%d-%m-%Y %H:%M}" for _, due in planned)
        self.say("expert_aftercare_planned", case=case.id, dates=dates)

    def urgency(self, case_id: int, rest: str) -> None:
        """Choose a case's urgency level ('urgentie 12 hoog'); it holds until a new danger or
        crisis signal. A case that became more urgent while waiting moves on sooner."""
        case = self.my_case(case_id, coordinator_may=True)
        if case is None:
            return
        triage = self.router.flows.triage
        level = pick_level(triage, rest)
        if level is None:
            self.say("expert_urgency_usage", case=case.id, **self.lists())
            return
        sooner = set_urgency(self.db, case, level, self.expert.id, self.turn.now)
        if sooner and case.status == CaseStatus.ASKING:
            self.router.hasten(self.turn, replace(case, urgency=level))
        self.audit("urgency", case.id, level)
        log.info("case.urgency case=%s level=%s", case.id, level)
        self.say("expert_urgency_set", case=case.id,
                 level=level_label(triage, level, self.language))

    def verify(self, case_id: int, rest: str) -> None:
        """Mark that the team checked, through its own channel, that the report is from a
        real office holder ('verifieer 12 gebeld via de griffie'), or undo it."""
        case = self.my_case(case_id, coordinator_may=True)
        if case is None:
            return
        how = rest.strip()
        if not how:
            self.say("expert_verify_usage", case=case.id)
            return
        if normalize(how) in UNDO_WORDS:
            set_verified(self.db, case.id, self.turn.now, None, None)
            self.audit("unverify", case.id)
            self.say("expert_unverified", case=case.id)
            return
        set_verified(self.db, case.id, self.turn.now, self.expert.id, how[:500])
        self.audit("verify", case.id)
        log.info("case.verified case=%s", case.id)
        self.say("expert_verified", case=case.id, how=how[:500])

    def switch(self, case_id: int) -> None:
        case = db.load_case(self.db, case_id)
        if case is None or case.assigned_expert != self.expert.id:
            self.refuse(case_id)
        elif case.status != CaseStatus.ASSIGNED:
            self.say("expert_not_open", case=case_id)
        else:
            db.save_session(self.db, self.expert.id, active_case_id=case.id)
            self.audit("open", case.id)
            self.say("expert_switched", case=case.id)

    def list_cases(self) -> None:
        lines = []
        triage = self.router.flows.triage
        mine = sorted(db.assigned_cases(self.db, self.expert.id),
                      key=lambda c: (RANK.get(c.urgency, len(RANK)), c.id))
        for case in mine:
            level = level_label(triage, case.urgency, self.language)
            lines.append(f"• #{case.id} {case.kind} ({level})")
        offered = self.texts.t("expert_accept_label", self.language).lower()
        for handoff in db.pending_handoffs_of(self.db, self.expert.id):
            lines.append(f"• #{handoff.case_id} ({offered}?)")
        self.audit("list", None)
        if lines:
            self.say("expert_cases", cases="\n".join(lines))
        else:
            self.say("expert_no_cases")

    def clear_session(self, case_id: int) -> None:
        if db.active_case(self.db, self.expert.id) == case_id:
            db.save_session(self.db, self.expert.id, active_case_id=None)
