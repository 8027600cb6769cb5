"""Running a batch of turns in one database transaction (group commit).

Per turn there is one read (the person with their current conversation); the handled ids,
messages, conversations and people of the whole batch are written with one statement each.
A turn's outcome is computed before any of its writes, so a bug in a flow cannot leave half a
turn behind: that turn is answered with an apology and the rest of the batch goes on. If the
database itself fails, the batch is retried one turn per transaction, so one bad row cannot
hold up everybody else.

Runs in the engine's single database thread; nothing here touches the event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from bot.accounts import RELINKED, AccountDesk
from bot.case_triage import signal_changes, triage_changes
from bot.checkins import CHECKIN_FLOWS, CheckinDesk
from bot.conversation import ACTIVE, COMPLETED, ConversationLogic, Outcome, Reply, Snapshot
from bot.events import InboundEvent, OutboundMessage, WipeOrder
from bot.experts import ExpertDesk
from bot.outbox import Outbox, TurnResult, attachment_body
from bot.outbox import to_outbound as _outbound
from bot.relay import PersonRelay
from bot.routing import Router
from config.experts import Roster
from flows.summary import answers_of
from flows.triage import more_urgent
from storage import cases, links
from storage import checkins as checkins_db
from storage import repository as repo
from storage.database import begin_without_flush_to_disk, forget_deleted
from storage.models import Message, utcnow
from storage.retention import record_facts

log = logging.getLogger(__name__)


ESCALATION_CHECK_SECONDS = 1.0
ERASED = "erased"


@dataclass(frozen=True)
class Posted:
    """What a delivered message became on its platform."""

    channel: str
    recipient: str
    refs: list[str]
    at: datetime


@dataclass
class DeliveryReport:
    """What the delivery side learned since the last batch, written with the next batch."""

    delivered: list[int] = field(default_factory=list)
    failed: list[tuple[int, str, bool]] = field(default_factory=list)
    posted: dict[int, Posted] = field(default_factory=dict)
    wiped: list[int] = field(default_factory=list)
    """Messages removed from their chat on the platform (or tried to be)."""


@dataclass
class _Current:
    """A person and their conversation as the batch has them now."""

    person_id: int
    conversation_id: int
    snapshot: Snapshot
    channel: str
    address: str
    identity_id: int = 0
    """The identity written from: the person, or an account linked to them."""
    reply_identity_id: int | None = None


@dataclass
class BatchResult:
    """Per event its result, and the messages the batch made on its own (escalations)."""

    results: list[TurnResult]
    extra: TurnResult = field(default_factory=TurnResult)
    planned_checkins: list[tuple[int, datetime]] = field(default_factory=list)
    checkins_done: bool = False
    """The due check-ins given to the batch were handled (sent, moved or skipped)."""
    erased: bool = False
    """Someone was erased in the batch."""


@dataclass
class _Batch(Outbox):
    """Rows collected during a batch and written at its end (or before an erasure or an
    expert's action)."""

    results: list[TurnResult] = field(default_factory=list)
    extra: TurnResult = field(default_factory=TurnResult)
    processed: list[dict[str, Any]] = field(default_factory=list)
    conversations: dict[int, dict[str, Any]] = field(default_factory=dict)
    languages: dict[int, str] = field(default_factory=dict)
    erased: bool = False
    reply_to: dict[int, int] = field(default_factory=dict)
    linked_seen: set[int] = field(default_factory=set)
    with_assigned_case: set[int] | None = None
    """People who had a case with an expert when the batch began; ``None`` once an expert
    acted in the batch (cases may have changed: ask the database again)."""

    def flush(self, connection: Connection) -> None:
        repo.insert_processed(connection, self.processed)
        ids = repo.insert_messages(connection, self.messages)
        for message_id, row, owner in zip(ids, self.messages, self.owners, strict=True):
            if owner is not None:
                owner.replies.append(_outbound(message_id, row))
        repo.update_conversations(connection, self.conversations, self.now)
        repo.update_people(connection, self.languages, self.now, self.reply_to,
                           self.linked_seen)
        cases.insert_audits(connection, self.audits)
        self.processed, self.messages, self.owners, self.audits = [], [], [], []
        self._joinable.clear()
        self.conversations, self.languages, self.reply_to = {}, {}, {}
        self.linked_seen = set()


class TurnRunner:
    """Runs batches of turns in the database thread. ``clock``: the time the turns are stored
    at and check-ins fall due by; ``check_interval``: seconds between escalation checks."""

    def __init__(self, db: Engine, logic: ConversationLogic, default_language: str,
                 router: Router | None = None, checkins: CheckinDesk | None = None, *,
                 clock: Callable[[], datetime] = utcnow,
                 check_interval: float = ESCALATION_CHECK_SECONDS) -> None:
        self.db = db
        self.clock = clock
        self.check_interval = check_interval
        self.logic = logic
        self.default_language = default_language
        self.checkins = checkins
        self._routing = router
        self._roster_changed = False
        self._use_router()
        self._next_escalation_check = 0.0
        self.accounts = AccountDesk(logic, self._load)

    def _use_router(self) -> None:
        """Route only while the roster has experts; without, cases wait in the database."""
        router = self._routing
        self.router = router if router is not None and router.active else None
        self.desk = ExpertDesk(self.router, self.checkins) if self.router else None
        self.relay = PersonRelay(self.router, self.logic) if self.router else None

    def use_roster(self, roster: Roster) -> None:
        """Route with ``roster`` from the next batch on; that batch also gives the cases of
        experts who are no longer on it to others. Call in the database thread."""
        if self._routing is None:
            raise RuntimeError("this runner has no router")
        self._routing.use_roster(roster)
        self._use_router()
        self._roster_changed = True
        self._next_escalation_check = 0.0

    def _escalation_check_due(self) -> bool:
        if self.router is None or time.monotonic() < self._next_escalation_check:
            return False
        self._next_escalation_check = time.monotonic() + self.check_interval
        return True

    def due_checkins(self, limit: int) -> list[int]:
        with self.db.connect() as connection:
            return checkins_db.due_ids(connection, self.clock(), limit)

    def chat_messages(self, channel: str, address: str, before: int,
                      ) -> list[repo.ChatMessage]:
        with self.db.connect() as connection:
            return repo.chat_messages(connection, channel, address, before)

    def next_checkin(self) -> datetime | None:
        with self.db.connect() as connection:
            return checkins_db.next_due(connection)

    def run_batch(self, events: Sequence[InboundEvent], report: DeliveryReport,
                  due_checkins: Sequence[int] = ()) -> BatchResult:
        """Handle ``events`` and send the check-ins in ``due_checkins``, in one transaction."""
        escalate = self._escalation_check_due()
        if not events and not escalate and not due_checkins:
            with begin_without_flush_to_disk(self.db) as connection:
                forgot = self._write_report(connection, report)
            if forgot:
                forget_deleted(self.db)
            return BatchResult([])
        try:
            with self.db.begin() as connection:
                forgot = self._write_report(connection, report)
                result = self._run(connection, events, escalate=escalate,
                                   due_checkins=due_checkins)
            if escalate:
                self._roster_changed = False
            if result.erased or forgot:
                forget_deleted(self.db)
            return result
        except Exception as exc:
            # Any failure, not only the database's (a value that cannot be encoded, a bug):
            # one bad turn must not cost the others in its batch their turn.
            log.warning("batch.failed turns=%d error=%s; retrying one by one", len(events),
                        type(exc).__name__)
        with self.db.begin() as connection:  # the database itself is down: raises
            forgot = self._write_report(connection, report)
        if forgot:
            forget_deleted(self.db)
        return BatchResult([self._run_alone(event) for event in events])

    def _run_alone(self, event: InboundEvent) -> TurnResult:
        try:
            with self.db.begin() as connection:
                outcome = self._run(connection, [event], escalate=False)
            if outcome.erased:
                forget_deleted(self.db)
            return outcome.results[0]
        except Exception as exc:
            log.warning("turn.failed channel=%s error=%s", event.channel, type(exc).__name__)
        try:
            with self.db.begin() as connection:
                return self._failed_turn(connection, event)
        except Exception as exc:
            # Not even the message alone could be stored: say so, never "saved".
            log.error("turn.not_stored channel=%s error=%s", event.channel, type(exc).__name__)
            return TurnResult(stored=False)

    @staticmethod
    def _write_report(connection: Connection, report: DeliveryReport) -> bool:
        """Returns whether messages of an erased person were deleted with it (their last
        notices, now delivered or given up): then the log must forget them too."""
        forgot = repo.mark_delivered(connection, report.delivered,
                                     {i: p.refs for i, p in report.posted.items()})
        repo.forget_refs(connection, report.wiped)
        for message_id, reason, permanent in report.failed:
            forgot = repo.record_failure(connection, message_id, reason,
                                         permanent=permanent) or forgot
        return forgot

    # -- one batch -------------------------------------------------------------------------

    def _run(self, connection: Connection, events: Sequence[InboundEvent], *,
             escalate: bool, due_checkins: Sequence[int] = ()) -> BatchResult:
        batch = _Batch(now=self.clock())
        seen = repo.already_processed(connection, ((e.channel, e.message_id) for e in events))
        known = repo.load_people(connection, ((e.channel, e.sender) for e in events))
        if self.relay is not None:
            batch.with_assigned_case = cases.people_with_assigned_case(
                connection, (row.person_id for row in known.values()))
        current: dict[tuple[str, str], _Current] = {}
        reread = False
        for event in events:
            result = TurnResult()
            batch.results.append(result)
            if (event.channel, event.message_id) in seen:
                log.info("inbound.duplicate channel=%s", event.channel)
                continue
            seen.add((event.channel, event.message_id))
            expert = self.router.expert_at(event.channel, event.sender) \
                if self.router else None
            if expert is not None:
                assert self.desk is not None
                # The expert's action may change cases and conversations of people in this
                # batch: write what the batch has so far, and read people afresh after it.
                batch.flush(connection)
                current.clear()
                reread = True
                batch.with_assigned_case = None
                batch.processed.append(_processed(batch.now, event, None))
                log.info("expert.message expert=%s", expert.id)
                self.desk.turn(connection, batch, expert, event, result)
                continue
            who = (event.channel, event.sender)
            if who not in current:
                row = (repo.load_people(connection, [who]).get(who) if reread
                       else known.pop(who, None))
                current[who] = self._load(connection, event, row)
            changed = self._turn(connection, batch, current[who], event, result)
            if changed == ERASED:
                del current[who]
            elif changed == RELINKED:  # accounts joined or parted: read people afresh
                batch.flush(connection)
                current.clear()
                reread = True
                batch.with_assigned_case = None
        if escalate and self.router is not None:
            batch.flush(connection)
            if self._roster_changed:
                self.router.release_removed(connection, batch, batch.extra)
            self.router.escalate_due(connection, batch, batch.extra)
        done = False
        if due_checkins and self.checkins is not None:
            batch.flush(connection)
            self.checkins.send_due(connection, batch, due_checkins, batch.extra)
            done = True
        batch.flush(connection)
        return BatchResult(batch.results, batch.extra, batch.planned_checkins, done,
                           erased=batch.erased)

    def _load(self, connection: Connection, event: InboundEvent,
              row: repo.PersonRow | None) -> _Current:
        if row is not None and row.conversation_id is not None \
                and row.status != cases.CONVERSATION_CLOSED:
            snapshot = Snapshot(known=True, flow=row.flow, state=row.state, status=row.status,
                                language=row.conversation_language, data=row.data)
            return _Current(row.person_id, row.conversation_id, snapshot, event.channel,
                            event.sender, row.identity_id, row.reply_identity_id)
        if row is None:
            language = self.default_language
            person_id = repo.insert_person(connection, event.channel, event.sender, language)
            identity_id, reply_identity_id = person_id, None
        else:
            person_id, language = row.person_id, row.language
            identity_id, reply_identity_id = row.identity_id, row.reply_identity_id
        snapshot = self.logic.start(language, returning=row is not None)
        conversation_id = repo.insert_conversation(
            connection, person_id, flow=snapshot.flow, state=snapshot.state,
            status=snapshot.status, language=snapshot.language, data=snapshot.data)
        return _Current(person_id, conversation_id, snapshot, event.channel, event.sender,
                        identity_id, reply_identity_id)

    def _turn(self, connection: Connection, batch: _Batch, state: _Current,
              event: InboundEvent, result: TurnResult) -> str | None:
        """One turn; returns :data:`ERASED` when the person was erased, :data:`RELINKED` when
        accounts were joined or parted."""
        relayed = self._relayed_case(connection, batch, state)
        changed: str | None = None
        try:
            accounts = self.accounts.turn(connection, batch, state, event, result)
            expert = self.relay.expert_for(relayed, event, state.snapshot.data) \
                if self.relay is not None and accounts is None else None
            if accounts is not None:
                outcome, changed, relayed = accounts.outcome, accounts.changed, None
            elif expert is not None and self.relay is not None and relayed is not None:
                outcome = self.relay.turn(connection, batch, relayed, expert, state.snapshot,
                                          event, result)
            else:
                relayed = None
                outcome = (self.logic.burst(state.snapshot, event) if event.burst
                           else self.logic.turn(state.snapshot, event))
        except Exception:
            log.exception("turn.failed channel=%s flow=%s state=%s", event.channel,
                          state.snapshot.flow, state.snapshot.state)
            outcome = self._apology(state.snapshot)
        log.info("turn flow=%s state=%s->%s replies=%d urgent=%s", state.snapshot.flow,
                 state.snapshot.state, outcome.state, len(outcome.replies), outcome.urgent)
        if outcome.erase:
            batch.flush(connection)
            self._withdraw_cases(connection, batch, state.person_id, result)
            if self.checkins is not None:
                self.checkins.cancel(connection, person_id=state.person_id)
            repo.erase_person(connection, state.person_id)
            batch.erased = True
            log.info("person.erased")
            batch.processed.append(_processed(batch.now, event, None))
            self._add_replies(connection, batch, event, None, None, outcome, result)
            return ERASED
        if outcome.stop_checkins and self.checkins is not None:
            stopped = self.checkins.cancel(connection, person_id=state.person_id)
            if stopped and not self._entered_stop_step(outcome):
                outcome.replies.append(Reply(self.logic.flows.text("checkins_stopped").get(
                    outcome.language)))
        batch.processed.append(_processed(batch.now, event, state.person_id))
        inbound = _inbound_row(batch.now, event, state)
        batch.keep(inbound)
        if outcome.abandon_case:
            repo.abandon_case(connection, state.conversation_id)
        if outcome.new_conversation:
            old = state.snapshot
            batch.conversations[state.conversation_id] = {
                "flow": old.flow, "state": old.state, "language": old.language,
                "data": old.data, "status": repo.ABANDONED if old.status == ACTIVE else old.status}
            state.conversation_id = repo.insert_conversation(
                connection, state.person_id, flow=outcome.flow, state=outcome.state,
                status=outcome.status, language=outcome.language, data=outcome.data)
        else:
            batch.conversations[state.conversation_id] = {
                "flow": outcome.flow, "state": outcome.state, "status": outcome.status,
                "language": outcome.language, "data": outcome.data}
        if relayed is not None:
            inbound["case_id"] = relayed.id
        elif outcome.touches_case:
            case_id = self._apply_case(connection, batch, state, outcome, event.channel, result)
            if outcome.attach_to_case:
                inbound["case_id"] = case_id
        batch.languages[state.person_id] = outcome.language
        if state.identity_id and state.identity_id != state.person_id:
            batch.linked_seen.add(state.identity_id)
        if state.identity_id and state.identity_id != (state.reply_identity_id
                                                        or state.person_id):
            batch.reply_to[state.person_id] = state.reply_identity_id = state.identity_id
        state.snapshot = Snapshot(known=True, flow=outcome.flow, state=outcome.state,
                                  status=outcome.status, language=outcome.language,
                                  data=outcome.data)
        self._add_replies(connection, batch, event, state.person_id, state.conversation_id,
                          outcome, result)
        return changed

    def _entered_stop_step(self, outcome: Outcome) -> bool:
        """The check-in's own "no more check-ins" step already said so."""
        step = self.logic.flows.flows[outcome.flow].steps.get(outcome.state)
        return outcome.flow in CHECKIN_FLOWS.values() and step is not None \
            and step.type == "end"

    def _relayed_case(self, connection: Connection, batch: _Batch,
                      state: _Current) -> cases.CaseInfo | None:
        """The case an expert took whose person this is, when their messages should go to
        that expert: from the case's own conversation, or from a fresh one (not from a new
        intake the person is filling in)."""
        if self.relay is None:
            return None
        known = batch.with_assigned_case
        if known is not None and state.person_id not in known:
            return None  # only an expert's action assigns a case, and none acted yet
        case = cases.assigned_case_of_person(connection, state.person_id)
        if case is None:
            return None
        if case.conversation_id == state.conversation_id \
                or not state.snapshot.data.get("answers"):
            return case
        return None

    def _apology(self, snapshot: Snapshot) -> Outcome:
        text = self.logic.flows.text("error").get(snapshot.language)
        return Outcome(flow=snapshot.flow, state=snapshot.state, status=snapshot.status,
                       language=snapshot.language, data=snapshot.data,
                       replies=[Reply(text.format_map(self.logic.facts))])

    def _apply_case(self, connection: Connection, batch: _Batch, state: _Current,
                    outcome: Outcome, platform: str, result: TurnResult) -> int | None:
        now = batch.now
        if "checkin_case" in outcome.data:
            return self._checkin_answer(connection, batch, state, outcome, result)
        case = repo.case_of(connection, state.conversation_id)
        if case is None:
            kind = outcome.case_kind or "contact"
            case = repo.CaseRow(repo.insert_case(connection, state.person_id,
                                                 state.conversation_id, kind),
                                kind, repo.INTAKE, urgent=False, human_requested=False)
            log.info("case.opened case=%s kind=%s", case.id, kind)
        values: dict[str, Any] = {}
        if outcome.case_kind and case.status == repo.INTAKE and case.kind != outcome.case_kind:
            values["kind"] = outcome.case_kind
        if outcome.urgent and not case.urgent:
            values.update(urgent=True, urgent_at=now)
            log.info("case.urgent case=%s", case.id)
        if outcome.human and not case.human_requested:
            values.update(human_requested=True, human_requested_at=now)
            log.info("case.human_requested case=%s", case.id)
        flow, answers = self._current_answers(outcome)
        values.update(triage_changes(
            self.logic.flows.triage, level=case.urgency, reasons=case.urgency_reasons,
            set_by=case.urgency_set_by, signals=case.signals, new_signals=outcome.signals,
            flow=flow, answers=answers, now=now))
        if outcome.submit is not None:
            values.update(intake=outcome.submit, submitted_at=now)
            if case.status == repo.INTAKE:
                values["status"] = repo.SUBMITTED
            kind = str(values.get("kind", case.kind))
            record_facts(connection, submitted_at=now, kind=kind, platform=platform,
                         answers=outcome.submit.get("answers", {}),
                         urgent=case.urgent or outcome.urgent)
            log.info("case.submitted case=%s kind=%s", case.id, kind)
            if self.checkins is not None:
                self.checkins.plan(connection, batch, case_id=case.id,
                                   person_id=state.person_id, kind=kind,
                                   answers=outcome.submit.get("answers", {}))
        if self._hands_off(case, values, outcome):
            self._start_handoff(connection, batch, state, case, values, outcome, result)
            return case.id
        repo.update_case(connection, case.id, values)
        if self.router is not None:
            self._tell_about(connection, batch, case, values, outcome, result)
        return case.id

    @staticmethod
    def _current_answers(outcome: Outcome) -> tuple[str, dict[str, Any]]:
        """The case's flow and answers by step: as submitted, or as the turn has them."""
        if outcome.submit is not None:
            return (str(outcome.submit.get("flow", outcome.flow)),
                    dict(outcome.submit.get("answers", {})))
        return outcome.flow, answers_of(outcome.flow, outcome.data.get("answers", {}))

    def _checkin_answer(self, connection: Connection, batch: _Batch, state: _Current,
                        outcome: Outcome, result: TurnResult) -> int | None:
        """In a check-in, the person asked for contact (or signalled danger): the case is
        re-opened for nazorg, or its expert is told."""
        case = repo.case_by_id(connection, int(outcome.data["checkin_case"]))
        if case is None:
            return None
        values: dict[str, Any] = {}
        if outcome.urgent and not case.urgent:
            values.update(urgent=True, urgent_at=batch.now)
        values.update(signal_changes(
            self.logic.flows.triage, level=case.urgency, reasons=case.urgency_reasons,
            signals=case.signals, new_signals=outcome.signals, flow=outcome.flow, now=batch.now))
        if not (outcome.human or outcome.urgent):
            repo.update_case(connection, case.id, values)
            return case.id
        values.update(human_requested=True, human_requested_at=batch.now)
        if case.status == cases.ASSIGNED and self.router is not None:
            repo.update_case(connection, case.id, values)
            info = cases.load_case(connection, case.id)
            expert = self.router.roster.by_id(info.assigned_expert or "") if info else None
            if info is not None and expert is not None:
                self.router.tell_expert(connection, batch, info, expert, result,
                                        self.router.texts.t("expert_person_asks_human",
                                                            expert.language, case=case.id))
            return case.id
        if case.status == cases.ASKING:
            repo.update_case(connection, case.id, values)
            return case.id
        log.info("case.reopened case=%s", case.id)
        values.update(status=repo.SUBMITTED, closed_at=None, outcome=None,
                      assigned_expert=None)
        if self.router is None:
            repo.update_case(connection, case.id, values)
            return case.id
        repo.update_case(connection, case.id, values)
        info = cases.load_case(connection, case.id)
        assert info is not None
        info = replace(info, language=outcome.language)
        notice = self.router.start(connection, batch, info, result, needed=["nazorg"])
        outcome.replies.insert(max(0, len(outcome.replies) - 1), Reply(notice))
        return case.id

    def _hands_off(self, case: repo.CaseRow, values: dict[str, Any], outcome: Outcome) -> bool:
        """Whether this turn hands the case to an expert: the intake is confirmed, the person
        asks for a human, or danger was signalled, and nobody was asked yet."""
        return self.router is not None and case.status in (repo.INTAKE, repo.SUBMITTED) and (
            outcome.submit is not None or case.urgent or case.human_requested
            or bool(values.get("urgent")) or bool(values.get("human_requested")))

    def _start_handoff(self, connection: Connection, batch: _Batch, state: _Current,
                       case: repo.CaseRow, values: dict[str, Any], outcome: Outcome,
                       result: TurnResult) -> None:
        assert self.router is not None
        submitted = outcome.submit
        current = (*self._current_answers(outcome), submitted is not None)
        # Everything routing needs is known here; no need to read the case back.
        info = cases.CaseInfo(
            id=case.id, kind=str(values.get("kind", case.kind)),
            status=str(values.get("status", case.status)),
            urgent=bool(case.urgent or values.get("urgent")), person_id=state.person_id,
            urgency=str(values.get("urgency", case.urgency)),
            urgency_reasons=tuple(values.get("urgency_reasons", case.urgency_reasons or ())),
            urgency_set_by=values.get("urgency_set_by", case.urgency_set_by),
            channel=state.channel, address=state.address, language=outcome.language,
            conversation_id=state.conversation_id, specialties=[], assigned_expert=None,
            escalation_level=0, intake=dict(submitted or {}), created_at=batch.now,
            first_asked_at=None, accepted_at=None, first_answer_at=None)
        if case.status != repo.INTAKE and (stored := cases.load_case(connection, case.id)):
            info = replace(info, verified_at=stored.verified_at,
                           verified_by=stored.verified_by, verified_how=stored.verified_how)
        notice = self.router.start(connection, batch, info, result, current, **values)
        position = len(outcome.replies) if outcome.status == COMPLETED else max(
            0, len(outcome.replies) - 1)
        outcome.replies.insert(position, Reply(notice))

    def _tell_about(self, connection: Connection, batch: _Batch, before: repo.CaseRow,
                    changed: dict[str, Any], outcome: Outcome, result: TurnResult) -> None:
        """A case already with experts: waiting ones move on sooner when it became urgent;
        the expert who took it gets the intake when it is completed."""
        assert self.router is not None
        if before.status == cases.ASKING and "urgency" in changed \
                and more_urgent(changed["urgency"], before.urgency) != before.urgency:
            case = cases.load_case(connection, before.id)
            if case is not None:
                self.router.hasten(connection, batch, case)
        elif before.status == cases.ASSIGNED and outcome.submit is not None:
            case = cases.load_case(connection, before.id)
            expert = self.router.roster.by_id(case.assigned_expert or "") if case else None
            if case is not None and expert is not None:
                self.router.tell_expert(connection, batch, case, expert, result,
                                        self.router.texts.t(
                                            "expert_intake_update", expert.language,
                                            case=case.id, intake=self.router.full_intake(
                                                connection, case, expert.language)))

    def _withdraw_cases(self, connection: Connection, batch: _Batch, person_id: int,
                        result: TurnResult) -> None:
        """Before an erasure: tell each expert asked for or working on this person's cases.
        The notices carry no person, so they outlive the erasure until delivered."""
        if self.router is None:
            return
        for case in cases.open_cases_of_person(connection, person_id):
            experts = {h.expert for h in cases.handoffs_of_case(connection, case.id)
                       if h.status in (cases.ASKED, cases.ACCEPTED)}
            for expert_id in sorted(experts):
                expert = self.router.roster.by_id(expert_id)
                if expert is not None:
                    self.router.tell_expert(connection, batch, None, expert, result,
                                            self.router.texts.t("expert_person_erased",
                                                                expert.language, case=case.id))
            batch.audit("person", "erased", case.id)

    def _add_replies(self, connection: Connection, batch: _Batch, event: InboundEvent,
                     person_id: int | None, conversation_id: int | None, outcome: Outcome,
                     result: TurnResult) -> None:
        for reply in outcome.replies:
            batch.post(result, channel=event.channel, address=event.sender, text=reply.text,
                       language=outcome.language, person_id=person_id,
                       conversation_id=conversation_id, options=reply.options)
        if outcome.wipe is not None and person_id is not None:
            for _, channel, address in links.identities_of(connection, person_id):
                self._post_wipe(batch, channel, address, person_id, outcome, result)

    def _post_wipe(self, batch: _Batch, channel: str, address: str, person_id: int,
                   outcome: Outcome, result: TurnResult) -> None:
        """The order to remove a chat of the person (each of their accounts) from their
        device, delivered after every message before it (its neutral last words are filled
        in once it is known how many messages could not be removed)."""
        fields = {**self.logic.facts, "count": "{count}"}
        texts = self.logic.flows
        order = WipeOrder(left_text=texts.text("wipe_left").get(outcome.language)
                          .format_map(fields), silent=outcome.wipe == "silent")
        batch.post(result, channel=channel, address=address,
                   text=texts.text("wipe_done").get(outcome.language).format_map(fields),
                   language=outcome.language, person_id=person_id, wipe=order)
        log.info("chat.wipe channel=%s silent=%s", channel, order.silent)

    def _failed_turn(self, connection: Connection, event: InboundEvent) -> TurnResult:
        """Keep the message and answer kindly even when the turn could not be stored."""
        known = repo.load_people(connection, [(event.channel, event.sender)])
        state = self._load(connection, event, known.get((event.channel, event.sender)))
        batch = _Batch(now=self.clock())
        result = TurnResult()
        batch.keep(_inbound_row(batch.now, event, state))
        self._add_replies(connection, batch, event, state.person_id, state.conversation_id,
                          self._apology(state.snapshot), result)
        batch.flush(connection)
        return result


def _processed(now: datetime, event: InboundEvent, person_id: int | None) -> dict[str, Any]:
    return {"channel": event.channel, "platform_message_id": event.message_id,
            "person_id": person_id, "processed_at": now}


def _inbound_row(now: datetime, event: InboundEvent, state: _Current) -> dict[str, Any]:
    body: dict[str, Any] = {}
    kind = "text"
    if event.text is not None:
        body["text"] = event.text
    if event.option is not None:
        body["option"], kind = event.option, "option"
    if event.attachment is not None:
        body["attachment"] = attachment_body(event.attachment)
        kind = "attachment"
    if event.location is not None:
        body["location"], kind = event.location.as_body(), "location"
    if event.contact is not None:
        body["contact"], kind = event.contact.as_body(), "contact"
    row = repo.message_row(channel=event.channel, address=event.sender,
                           direction=repo.INBOUND, kind=kind, body=body,
                           person_id=state.person_id, conversation_id=state.conversation_id,
                           now=now)
    if event.platform_ref is not None:
        row["platform_refs"] = [event.platform_ref]
    return row


def to_outbound(row: Message) -> OutboundMessage:
    return _outbound(row.id, {"channel": row.channel, "address": row.address, "body": row.body})
