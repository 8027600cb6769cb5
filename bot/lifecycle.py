"""The case rules of a turn: opening a case for a conversation, marking it urgent or asked for
a person, submitting it (and planning its check-ins), handing it to experts, telling its
expert what changed, re-opening it from a check-in, and withdrawing it before an erasure.
What a turn wants is in its :class:`~bot.conversation.Outcome` (urgent, human, submit, ...);
the rules here decide what that means for the case, and every status they set is a move of
:mod:`bot.case_moves`. Experts' own moves (accept, close, transfer) are in
:mod:`bot.experts`, through the same moves."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from bot.case_moves import may, next_status
from bot.case_triage import signal_changes, triage_changes
from bot.checkins import CheckinDesk
from bot.conversation import ConversationLogic, Outcome
from bot.person_state import PersonState
from bot.routing import Router
from bot.write_buffer import TurnContext
from flows.summary import answers_of
from flows.triage import more_urgent
from storage import cases
from storage import repository as repo
from storage.case_status import CaseStatus, OfferStatus
from storage.case_types import CaseHead, CaseInfo
from storage.retention import record_facts

log = logging.getLogger(__name__)


class CaseLifecycle:
    """The case rules for one roster: ``router`` None when nobody is on it (cases then wait
    in the database)."""

    def __init__(self, logic: ConversationLogic, router: Router | None,
                 checkins: CheckinDesk | None) -> None:
        self.logic, self.router, self.checkins = logic, router, checkins

    def abandon(self, turn: TurnContext, conversation_id: int) -> None:
        """The person left the intake for a new one: its case, still in intake, is given up."""
        repo.abandon_case(turn.db, conversation_id)

    def apply(self, turn: TurnContext, state: PersonState, outcome: Outcome,
              platform: str) -> int | None:
        """The case of the person's conversation after this turn; returns its id (None when
        a check-in's case is gone)."""
        now = turn.now
        if "checkin_case" in outcome.data:
            return self._checkin_answer(turn, state, outcome)
        case = repo.case_of(turn.db, state.conversation_id)
        if case is None:
            kind = outcome.case_kind or "contact"
            case = CaseHead(repo.insert_case(turn.db, state.person_id,
                                                 state.conversation_id, kind),
                                kind, CaseStatus.INTAKE, urgent=False, human_requested=False)
            log.info("case.opened case=%s kind=%s", case.id, kind)
        values: dict[str, Any] = {}
        if outcome.case_kind and case.status == CaseStatus.INTAKE \
                and case.kind != outcome.case_kind:
            values["kind"] = outcome.case_kind
        if outcome.urgent and not case.urgent:
            values.update(urgent=True, urgent_at=now)
            log.info("case.urgent case=%s", case.id)
        if outcome.human and not case.human_requested:
            values.update(human_requested=True, human_requested_at=now)
            log.info("case.human_requested case=%s", case.id)
        flow, answers = self.current_answers(outcome)
        values.update(triage_changes(
            self.logic.flows.triage, level=case.urgency, reasons=case.urgency_reasons,
            set_by=case.urgency_set_by, signals=case.signals, new_signals=outcome.signals,
            flow=flow, answers=answers, now=now))
        if outcome.submit is not None:
            values.update(intake=outcome.submit, submitted_at=now)
            if may(case.status, "submit"):
                values["status"] = next_status(case.status, "submit")
            kind = str(values.get("kind", case.kind))
            record_facts(turn.db, submitted_at=now, kind=kind, platform=platform,
                         answers=outcome.submit.get("answers", {}),
                         urgent=case.urgent or outcome.urgent)
            log.info("case.submitted case=%s kind=%s", case.id, kind)
            if self.checkins is not None:
                self.checkins.plan(turn, case_id=case.id,
                                   person_id=state.person_id, kind=kind,
                                   answers=outcome.submit.get("answers", {}))
        if self._hands_off(case, values, outcome):
            self._start_handoff(turn, state, case, values, outcome)
            return case.id
        cases.update_case(turn.db, case.id, turn.now, **values)
        if self.router is not None:
            self._tell_about(turn, case, values, outcome)
        return case.id

    @staticmethod
    def current_answers(outcome: Outcome) -> tuple[str, dict[str, Any]]:
        """The case's flow and answers by step: as submitted, or as the turn has them."""
        if outcome.submit is not None:
            return (str(outcome.submit.get("flow", outcome.flow)),
                    dict(outcome.submit.get("answers", {})))
        return outcome.flow, answers_of(outcome.flow, outcome.data.get("answers", {}))

    def _checkin_answer(self, turn: TurnContext, state: PersonState,
                        outcome: Outcome) -> int | None:
        """In a check-in, the person asked for contact (or signalled danger): the case is
        re-opened for nazorg, or its expert is told."""
        case = repo.case_by_id(turn.db, int(outcome.data["checkin_case"]))
        if case is None:
            return None
        values: dict[str, Any] = {}
        if outcome.urgent and not case.urgent:
            values.update(urgent=True, urgent_at=turn.now)
        values.update(signal_changes(
            self.logic.flows.triage, level=case.urgency, reasons=case.urgency_reasons,
            signals=case.signals, new_signals=outcome.signals, flow=outcome.flow, now=turn.now))
        if not (outcome.human or outcome.urgent):
            cases.update_case(turn.db, case.id, turn.now, **values)
            return case.id
        values.update(human_requested=True, human_requested_at=turn.now)
        if case.status == CaseStatus.ASSIGNED and self.router is not None:
            cases.update_case(turn.db, case.id, turn.now, **values)
            info = cases.load_case(turn.db, case.id)
            expert = self.router.roster.by_id(info.assigned_expert or "") if info else None
            if info is not None and expert is not None:
                self.router.tell_expert(turn, info, expert,
                                        self.router.texts.t("expert_person_asks_human",
                                                            expert.language, case=case.id))
            return case.id
        if case.status == CaseStatus.ASKING:
            cases.update_case(turn.db, case.id, turn.now, **values)
            return case.id
        log.info("case.reopened case=%s", case.id)
        values.update(status=next_status(case.status, "reopen"), closed_at=None, outcome=None,
                      assigned_expert=None)
        if self.router is None:
            cases.update_case(turn.db, case.id, turn.now, **values)
            return case.id
        cases.update_case(turn.db, case.id, turn.now, **values)
        info = cases.load_case(turn.db, case.id)
        assert info is not None
        info = replace(info, language=outcome.language)
        outcome.add_notice(self.router.start(turn, info, needed=["nazorg"]),
                           last_when_completed=False)
        return case.id

    def _hands_off(self, case: CaseHead, values: dict[str, Any], outcome: Outcome) -> bool:
        """Whether this turn hands the case to an expert: the intake is confirmed, the person
        asks for a human, or danger was signalled, and nobody was asked yet."""
        return self.router is not None and may(case.status, "hand_off") and (
            outcome.submit is not None or case.urgent or case.human_requested
            or bool(values.get("urgent")) or bool(values.get("human_requested")))

    def _start_handoff(self, turn: TurnContext, state: PersonState,
                       case: CaseHead, values: dict[str, Any], outcome: Outcome) -> None:
        assert self.router is not None
        submitted = outcome.submit
        current = (*self.current_answers(outcome), submitted is not None)
        # Everything routing needs is known here; no need to read the case back.
        info = CaseInfo(
            id=case.id, kind=str(values.get("kind", case.kind)),
            status=str(values.get("status", case.status)),
            urgent=bool(case.urgent or values.get("urgent")), person_id=state.person_id,
            human_requested=bool(case.human_requested or values.get("human_requested")),
            urgency=str(values.get("urgency", case.urgency)),
            urgency_reasons=tuple(values.get("urgency_reasons", case.urgency_reasons or ())),
            urgency_set_by=values.get("urgency_set_by", case.urgency_set_by),
            channel=state.channel, address=state.address, language=outcome.language,
            conversation_id=state.conversation_id, specialties=[], assigned_expert=None,
            escalation_level=0, intake=dict(submitted or {}), created_at=turn.now,
            first_asked_at=None, accepted_at=None, first_answer_at=None)
        if case.status != CaseStatus.INTAKE and (stored := cases.load_case(turn.db, case.id)):
            info = replace(info, verified_at=stored.verified_at,
                           verified_by=stored.verified_by, verified_how=stored.verified_how)
        outcome.add_notice(self.router.start(turn, info, current, **values))

    def _tell_about(self, turn: TurnContext, before: CaseHead,
                    changed: dict[str, Any], outcome: Outcome) -> None:
        """A case already with experts: waiting ones move on sooner when it became urgent;
        the expert who took it gets the intake when it is completed."""
        assert self.router is not None
        if before.status == CaseStatus.ASKING and "urgency" in changed \
                and more_urgent(changed["urgency"], before.urgency) != before.urgency:
            case = cases.load_case(turn.db, before.id)
            if case is not None:
                self.router.hasten(turn, case)
        elif before.status == CaseStatus.ASSIGNED and outcome.submit is not None:
            case = cases.load_case(turn.db, before.id)
            expert = self.router.roster.by_id(case.assigned_expert or "") if case else None
            if case is not None and expert is not None:
                self.router.tell_expert(turn, case, expert,
                                        self.router.texts.t(
                                            "expert_intake_update", expert.language,
                                            case=case.id, intake=self.router.full_intake(
                                                turn.db, case, expert.language)))

    def withdraw(self, turn: TurnContext, person_id: int) -> None:
        """Before an erasure: tell each expert asked for or working on this person's cases.
        The notices carry no person, so they outlive the erasure until delivered."""
        if self.router is None:
            return
        for case in cases.open_cases_of_person(turn.db, person_id):
            experts = {h.expert for h in cases.handoffs_of_case(turn.db, case.id)
                       if h.status in (OfferStatus.ASKED, OfferStatus.ACCEPTED)}
            for expert_id in sorted(experts):
                expert = self.router.roster.by_id(expert_id)
                if expert is not None:
                    self.router.tell_expert(turn, None, expert,
                                            self.router.texts.t("expert_person_erased",
                                                                expert.language, case=case.id))
            turn.audit("person", "erased", case.id)
