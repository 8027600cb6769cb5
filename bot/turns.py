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

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection, Engine

from bot.accounts import RELINKED, AccountDesk
from bot.checkins import CHECKIN_FLOWS, CheckinDesk
from bot.conversation import ACTIVE, ConversationLogic, Outcome, Reply, Snapshot
from bot.delivery_report import DeliveryReport
from bot.events import InboundEvent, OutboundMessage, WipeOrder
from bot.experts import ExpertDesk
from bot.first_contact import remind_due
from bot.lifecycle import CaseLifecycle
from bot.person_state import PersonState, load_state
from bot.relay import PersonRelay
from bot.rota_notices import tell_changed_shifts
from bot.routing import Router
from bot.write_buffer import TurnContext, TurnResult, WriteBuffer, inbound_row, processed_row
from bot.write_buffer import to_outbound as _outbound
from config.experts import Roster
from storage import cases, links
from storage import checkins as checkins_db
from storage import repository as repo
from storage.case_types import CaseInfo
from storage.database import begin_without_flush_to_disk, forget_deleted
from storage.models import Message, utcnow

log = logging.getLogger(__name__)


ESCALATION_CHECK_SECONDS = 1.0
ERASED = "erased"


class BatchHooks(Protocol):
    """What a replica of several adds to every batch's transaction (see :mod:`bot.cluster`)."""

    def began(self, connection: Connection) -> None:
        """First in the transaction (a replica waits here for the others' batches)."""

    def posted(self, connection: Connection, first_ids: dict[tuple[str, str], int]) -> None:
        """Last in the transaction: messages were posted, to each (channel, address) in
        ``first_ids`` from the message with that id on."""

    def claim(self, connection: Connection, key: str) -> bool:
        """Whether this replica is the first to do the one-off work ``key`` (every replica
        that took a changed roster would tell the experts otherwise)."""


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
class _Batch(WriteBuffer):
    """A batch's writes (see :class:`WriteBuffer`) and what the batch keeps track of."""

    results: list[TurnResult] = field(default_factory=list)
    extra: TurnResult = field(default_factory=TurnResult)
    erased: bool = False
    with_assigned_case: set[int] | None = None
    """People who had a case with an expert when the batch began; ``None`` once an expert
    acted in the batch (cases may have changed: ask the database again)."""


class TurnRunner:
    """Runs batches of turns in the database thread. ``clock``: the time the turns are stored
    at and check-ins fall due by; ``check_interval``: seconds between escalation checks."""

    def __init__(self, db: Engine, logic: ConversationLogic, default_language: str,
                 router: Router | None = None, checkins: CheckinDesk | None = None, *,
                 clock: Callable[[], datetime] = utcnow,
                 check_interval: float = ESCALATION_CHECK_SECONDS,
                 hooks: BatchHooks | None = None) -> None:
        self.db = db
        self.hooks = hooks
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
        self.cases = CaseLifecycle(self.logic, self.router, self.checkins)

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
        if self.router is None or self.hooks is not None \
                or time.monotonic() < self._next_escalation_check:
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
                  due_checkins: Sequence[int] = (), *, timers: bool = False) -> BatchResult:
        """Handle ``events`` and send the check-ins in ``due_checkins``, in one transaction.
        ``timers``: run the escalations and reminders that are due now (else they run when
        the check interval has passed; with hooks, only when asked)."""
        escalate = (timers and self.router is not None) or self._escalation_check_due()
        if not events and not escalate and not due_checkins:
            with begin_without_flush_to_disk(self.db) as connection:
                self._began(connection)
                forgot = self._write_report(connection, report)
            if forgot:
                forget_deleted(self.db)
            return BatchResult([])
        try:
            with self.db.begin() as connection:
                self._began(connection)
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
            self._began(connection)
            forgot = self._write_report(connection, report)
        if forgot:
            forget_deleted(self.db)
        return BatchResult([self._run_alone(event) for event in events])

    def _run_alone(self, event: InboundEvent) -> TurnResult:
        try:
            with self.db.begin() as connection:
                self._began(connection)
                outcome = self._run(connection, [event], escalate=False)
            if outcome.erased:
                forget_deleted(self.db)
            return outcome.results[0]
        except Exception as exc:
            log.warning("turn.failed channel=%s error=%s", event.channel, type(exc).__name__)
        try:
            with self.db.begin() as connection:
                self._began(connection)
                return self._failed_turn(connection, event)
        except Exception as exc:
            # Not even the message alone could be stored: say so, never "saved".
            log.error("turn.not_stored channel=%s error=%s", event.channel, type(exc).__name__)
            return TurnResult(stored=False)

    def _first_to_tell(self, connection: Connection) -> bool:
        router = self.router
        if self.hooks is None or router is None or router.roster_before is None:
            return True
        change = f"{router.roster_before.model_dump_json()}>{router.roster.model_dump_json()}"
        key = "rota:" + hashlib.sha256(change.encode("utf-8")).hexdigest()[:48]
        return self.hooks.claim(connection, key)

    def _began(self, connection: Connection) -> None:
        if self.hooks is not None:
            self.hooks.began(connection)

    def _posted(self, connection: Connection, batch: WriteBuffer) -> None:
        if self.hooks is not None and batch.posted_to:
            self.hooks.posted(connection, batch.posted_to)

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
        current: dict[tuple[str, str], PersonState] = {}
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
                batch.processed.append(processed_row(batch.now, event, None))
                log.info("expert.message expert=%s", expert.id)
                self.desk.turn(TurnContext(connection, batch, result), expert, event)
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
            bot_work = TurnContext(connection, batch, batch.extra)
            if self._roster_changed:
                self.router.release_removed(bot_work)
                if self._first_to_tell(connection):
                    tell_changed_shifts(self.router, bot_work)
                self.router.roster_before = None
            self.router.escalate_due(bot_work)
            remind_due(self.router, bot_work)
        done = False
        if due_checkins and self.checkins is not None:
            batch.flush(connection)
            self.checkins.send_due(TurnContext(connection, batch, batch.extra), due_checkins)
            done = True
        batch.flush(connection)
        self._posted(connection, batch)
        return BatchResult(batch.results, batch.extra, batch.planned_checkins, done,
                           erased=batch.erased)

    def _load(self, connection: Connection, event: InboundEvent,
              row: repo.PersonRow | None) -> PersonState:
        return load_state(connection, self.logic, event, row, self.default_language)

    def _turn(self, connection: Connection, batch: _Batch, state: PersonState,
              event: InboundEvent, result: TurnResult) -> str | None:
        """One turn; returns :data:`ERASED` when the person was erased, :data:`RELINKED` when
        accounts were joined or parted."""
        turn = TurnContext(connection, batch, result)
        outcome, changed, relayed = self._decide(turn, batch, state, event)
        log.info("turn flow=%s state=%s->%s replies=%d urgent=%s", state.snapshot.flow,
                 state.snapshot.state, outcome.state, len(outcome.replies), outcome.urgent)
        if outcome.erase:
            self._erase(turn, batch, state, event, outcome)
            return ERASED
        if outcome.stop_checkins and self.checkins is not None:
            stopped = self.checkins.cancel(connection, person_id=state.person_id)
            if stopped and not self._entered_stop_step(outcome):
                outcome.replies.append(Reply(self.logic.flows.text("checkins_stopped").get(
                    outcome.language)))
        batch.processed.append(processed_row(batch.now, event, state.person_id))
        inbound = inbound_row(batch.now, event, state)
        batch.keep(inbound)
        if outcome.abandon_case:
            self.cases.abandon(turn, state.conversation_id)
        self._save_conversation(turn, state, outcome)
        if relayed is not None:
            inbound["case_id"] = relayed.id
        elif outcome.touches_case:
            case_id = self.cases.apply(turn, state, outcome, event.channel)
            if outcome.attach_to_case:
                inbound["case_id"] = case_id
        self._save_person(batch, state, outcome)
        self._add_replies(turn, event, state.person_id, state.conversation_id, outcome)
        return changed

    def _decide(self, turn: TurnContext, batch: _Batch, state: PersonState,
                event: InboundEvent) -> tuple[Outcome, str | None, CaseInfo | None]:
        """What the turn is: about the person's accounts, a message for their expert (with
        the case it goes to), or a step of their conversation; an apology when it fails."""
        relayed = self._relayed_case(turn.db, batch, state)
        try:
            accounts = self.accounts.turn(turn, state, event)
            if accounts is not None:
                return accounts.outcome, accounts.changed, None
            expert = self.relay.expert_for(relayed, event, state.snapshot.data) \
                if self.relay is not None else None
            if expert is not None and self.relay is not None and relayed is not None:
                return self.relay.turn(turn, relayed, expert, state.snapshot, event), None, \
                    relayed
            return (self.logic.burst(state.snapshot, event) if event.burst
                    else self.logic.turn(state.snapshot, event)), None, None
        except Exception:
            log.exception("turn.failed channel=%s flow=%s state=%s", event.channel,
                          state.snapshot.flow, state.snapshot.state)
            return self._apology(state.snapshot), None, None

    def _erase(self, turn: TurnContext, batch: _Batch, state: PersonState, event: InboundEvent,
               outcome: Outcome) -> None:
        batch.flush(turn.db)
        self.cases.withdraw(turn, state.person_id)
        if self.checkins is not None:
            self.checkins.cancel(turn.db, person_id=state.person_id)
        repo.erase_person(turn.db, state.person_id)
        batch.erased = True
        log.info("person.erased")
        batch.processed.append(processed_row(batch.now, event, None))
        self._add_replies(turn, event, None, None, outcome)

    @staticmethod
    def _save_conversation(turn: TurnContext, state: PersonState, outcome: Outcome) -> None:
        """The conversation as the turn left it; or, when it began a new one, the old one as
        it was and the new one inserted."""
        conversations = turn.writes.conversations
        if outcome.new_conversation:
            old = state.snapshot
            conversations[state.conversation_id] = {
                "flow": old.flow, "state": old.state, "language": old.language,
                "data": old.data, "status": repo.CONVERSATION_ABANDONED if old.status == ACTIVE
                else old.status}
            state.conversation_id = repo.insert_conversation(
                turn.db, state.person_id, flow=outcome.flow, state=outcome.state,
                status=outcome.status, language=outcome.language, data=outcome.data)
        else:
            conversations[state.conversation_id] = {
                "flow": outcome.flow, "state": outcome.state, "status": outcome.status,
                "language": outcome.language, "data": outcome.data}

    @staticmethod
    def _save_person(batch: _Batch, state: PersonState, outcome: Outcome) -> None:
        """The person's language, and which of their accounts they wrote from (replies go to
        the account they wrote from last)."""
        batch.languages[state.person_id] = outcome.language
        if state.identity_id and state.identity_id != state.person_id:
            batch.linked_seen.add(state.identity_id)
        if state.identity_id and state.identity_id != (state.reply_identity_id
                                                        or state.person_id):
            batch.reply_to[state.person_id] = state.reply_identity_id = state.identity_id
        state.snapshot = Snapshot(known=True, flow=outcome.flow, state=outcome.state,
                                  status=outcome.status, language=outcome.language,
                                  data=outcome.data)

    def _entered_stop_step(self, outcome: Outcome) -> bool:
        """The check-in's own "no more check-ins" step already said so."""
        step = self.logic.flows.flows[outcome.flow].steps.get(outcome.state)
        return outcome.flow in CHECKIN_FLOWS.values() and step is not None \
            and step.type == "end"

    def _relayed_case(self, connection: Connection, batch: _Batch,
                      state: PersonState) -> CaseInfo | None:
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

    def _add_replies(self, turn: TurnContext, event: InboundEvent,
                     person_id: int | None, conversation_id: int | None, outcome: Outcome) -> None:
        for reply in outcome.replies:
            turn.writes.post(turn.result, channel=event.channel, address=event.sender,
                             text=reply.text, language=outcome.language, person_id=person_id,
                             conversation_id=conversation_id, options=reply.options)
        if outcome.wipe is not None and person_id is not None:
            for _, channel, address in links.identities_of(turn.db, person_id):
                self._post_wipe(turn, channel, address, person_id, outcome)

    def _post_wipe(self, turn: TurnContext, channel: str, address: str, person_id: int,
                   outcome: Outcome) -> None:
        """The order to remove a chat of the person (each of their accounts) from their
        device, delivered after every message before it (its neutral last words are filled
        in once it is known how many messages could not be removed)."""
        fields = {**self.logic.facts, "count": "{count}"}
        texts = self.logic.flows
        order = WipeOrder(left_text=texts.text("wipe_left").get(outcome.language)
                          .format_map(fields), silent=outcome.wipe == "silent")
        turn.writes.post(turn.result, channel=channel, address=address,
                         text=texts.text("wipe_done").get(outcome.language).format_map(fields),
                         language=outcome.language, person_id=person_id, wipe=order)
        log.info("chat.wipe channel=%s silent=%s", channel, order.silent)

    def _failed_turn(self, connection: Connection, event: InboundEvent) -> TurnResult:
        """Keep the message and answer kindly even when the turn could not be stored."""
        known = repo.load_people(connection, [(event.channel, event.sender)])
        state = self._load(connection, event, known.get((event.channel, event.sender)))
        batch = _Batch(now=self.clock())
        result = TurnResult()
        batch.keep(inbound_row(batch.now, event, state))
        self._add_replies(TurnContext(connection, batch, result), event, state.person_id,
                          state.conversation_id, self._apology(state.snapshot))
        batch.flush(connection)
        self._posted(connection, batch)
        return result


def to_outbound(row: Message) -> OutboundMessage:
    return _outbound(row.id, {"channel": row.channel, "address": row.address, "body": row.body})
