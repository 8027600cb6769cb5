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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.conversation import ACTIVE, ConversationLogic, Outcome, Reply, Snapshot
from bot.events import InboundEvent, OutboundMessage, OutboundOption
from storage import repository as repo
from storage.database import begin_without_flush_to_disk
from storage.models import Message, utcnow
from storage.retention import record_facts

log = logging.getLogger(__name__)


@dataclass
class TurnResult:
    replies: list[OutboundMessage] = field(default_factory=list)
    duplicate: bool = False


@dataclass
class DeliveryReport:
    """What the delivery side learned since the last batch, written with the next batch."""

    delivered: list[int] = field(default_factory=list)
    failed: list[tuple[int, str, bool]] = field(default_factory=list)


@dataclass
class _Current:
    """A person and their conversation as the batch has them now."""

    person_id: int
    conversation_id: int
    snapshot: Snapshot


@dataclass
class _Batch:
    """Rows collected during a batch and written at its end (or before an erasure)."""

    now: datetime
    results: list[TurnResult] = field(default_factory=list)
    processed: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    owners: list[TurnResult | None] = field(default_factory=list)
    conversations: dict[int, dict[str, Any]] = field(default_factory=dict)
    languages: dict[int, str] = field(default_factory=dict)

    def flush(self, connection: Connection) -> None:
        repo.insert_processed(connection, self.processed)
        ids = repo.insert_messages(connection, self.messages)
        for message_id, row, owner in zip(ids, self.messages, self.owners, strict=True):
            if owner is not None:
                owner.replies.append(_outbound(message_id, row))
        repo.update_conversations(connection, self.conversations, self.now)
        repo.update_people(connection, self.languages, self.now)
        self.processed, self.messages, self.owners = [], [], []
        self.conversations, self.languages = {}, {}


class TurnRunner:
    def __init__(self, db: Engine, logic: ConversationLogic, default_language: str) -> None:
        self.db = db
        self.logic = logic
        self.default_language = default_language

    def run_batch(self, events: Sequence[InboundEvent],
                  report: DeliveryReport) -> list[TurnResult]:
        if not events:
            with begin_without_flush_to_disk(self.db) as connection:
                self._write_report(connection, report)
            return []
        try:
            with self.db.begin() as connection:
                self._write_report(connection, report)
                return self._run(connection, events)
        except SQLAlchemyError:
            log.exception("batch.failed turns=%d; retrying one by one", len(events))
        with self.db.begin() as connection:
            self._write_report(connection, report)
        return [self._run_alone(event) for event in events]

    def _run_alone(self, event: InboundEvent) -> TurnResult:
        try:
            with self.db.begin() as connection:
                return self._run(connection, [event])[0]
        except SQLAlchemyError:
            log.exception("turn.failed channel=%s", event.channel)
        with self.db.begin() as connection:
            return self._failed_turn(connection, event)

    @staticmethod
    def _write_report(connection: Connection, report: DeliveryReport) -> None:
        repo.mark_delivered(connection, report.delivered)
        for message_id, reason, permanent in report.failed:
            repo.record_failure(connection, message_id, reason, permanent=permanent)

    # -- one batch -------------------------------------------------------------------------

    def _run(self, connection: Connection, events: Sequence[InboundEvent]) -> list[TurnResult]:
        batch = _Batch(now=utcnow())
        seen = repo.already_processed(connection, ((e.channel, e.message_id) for e in events))
        known = repo.load_people(connection, ((e.channel, e.sender) for e in events))
        current: dict[tuple[str, str], _Current] = {}
        for event in events:
            result = TurnResult()
            batch.results.append(result)
            if (event.channel, event.message_id) in seen:
                log.info("inbound.duplicate channel=%s", event.channel)
                result.duplicate = True
                continue
            seen.add((event.channel, event.message_id))
            who = (event.channel, event.sender)
            if who not in current:
                current[who] = self._load(connection, event, known.pop(who, None))
            if self._turn(connection, batch, current[who], event, result):
                del current[who]
        batch.flush(connection)
        return batch.results

    def _load(self, connection: Connection, event: InboundEvent,
              row: repo.PersonRow | None) -> _Current:
        if row is not None and row.conversation_id is not None:
            snapshot = Snapshot(known=True, flow=row.flow, state=row.state, status=row.status,
                                language=row.conversation_language, data=row.data)
            return _Current(row.person_id, row.conversation_id, snapshot)
        if row is None:
            language = self.default_language
            person_id = repo.insert_person(connection, event.channel, event.sender, language)
        else:
            person_id, language = row.person_id, row.language
        snapshot = self.logic.start(language)
        conversation_id = repo.insert_conversation(
            connection, person_id, flow=snapshot.flow, state=snapshot.state,
            status=snapshot.status, language=snapshot.language, data=snapshot.data)
        return _Current(person_id, conversation_id, snapshot)

    def _turn(self, connection: Connection, batch: _Batch, state: _Current,
              event: InboundEvent, result: TurnResult) -> bool:
        """One turn; returns whether the person was erased."""
        try:
            outcome = self.logic.turn(state.snapshot, event)
        except Exception:
            log.exception("turn.failed channel=%s flow=%s state=%s", event.channel,
                          state.snapshot.flow, state.snapshot.state)
            outcome = self._apology(state.snapshot)
        log.info("turn flow=%s state=%s->%s replies=%d urgent=%s", state.snapshot.flow,
                 state.snapshot.state, outcome.state, len(outcome.replies), outcome.urgent)
        if outcome.erase:
            batch.flush(connection)
            repo.erase_person(connection, state.person_id)
            log.info("person.erased")
            batch.processed.append(_processed(batch.now, event, None))
            self._add_replies(batch, event, None, None, outcome, result)
            return True
        batch.processed.append(_processed(batch.now, event, state.person_id))
        inbound = _inbound_row(batch.now, event, state)
        batch.messages.append(inbound)
        batch.owners.append(None)
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
        if outcome.touches_case:
            case_id = self._apply_case(connection, state, outcome, event.channel)
            if outcome.attach_to_case:
                inbound["case_id"] = case_id
        batch.languages[state.person_id] = outcome.language
        state.snapshot = Snapshot(known=True, flow=outcome.flow, state=outcome.state,
                                  status=outcome.status, language=outcome.language,
                                  data=outcome.data)
        self._add_replies(batch, event, state.person_id, state.conversation_id, outcome, result)
        return False

    def _apology(self, snapshot: Snapshot) -> Outcome:
        text = self.logic.flows.text("error").get(snapshot.language)
        return Outcome(flow=snapshot.flow, state=snapshot.state, status=snapshot.status,
                       language=snapshot.language, data=snapshot.data,
                       replies=[Reply(text.format_map(self.logic.facts))])

    @staticmethod
    def _apply_case(connection: Connection, state: _Current, outcome: Outcome,
                    platform: str) -> int:
        now = utcnow()
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
        if outcome.submit is not None:
            values.update(intake=outcome.submit, status=repo.SUBMITTED, submitted_at=now)
            kind = str(values.get("kind", case.kind))
            record_facts(connection, submitted_at=now, kind=kind, platform=platform,
                         answers=outcome.submit.get("answers", {}),
                         urgent=case.urgent or outcome.urgent)
            log.info("case.submitted case=%s kind=%s", case.id, kind)
        repo.update_case(connection, case.id, values)
        return case.id

    @staticmethod
    def _add_replies(batch: _Batch, event: InboundEvent, person_id: int | None,
                     conversation_id: int | None, outcome: Outcome,
                     result: TurnResult) -> None:
        for reply in outcome.replies:
            body = {"text": reply.text, "language": outcome.language,
                    "options": [[o.payload, o.label] for o in reply.options]}
            batch.messages.append(repo.message_row(
                channel=event.channel, address=event.sender, direction=repo.OUTBOUND,
                kind="text", body=body, person_id=person_id, conversation_id=conversation_id,
                now=batch.now))
            batch.owners.append(result)

    def _failed_turn(self, connection: Connection, event: InboundEvent) -> TurnResult:
        """Keep the message and answer kindly even when the turn could not be stored."""
        known = repo.load_people(connection, [(event.channel, event.sender)])
        state = self._load(connection, event, known.get((event.channel, event.sender)))
        batch = _Batch(now=utcnow())
        result = TurnResult()
        batch.messages.append(_inbound_row(batch.now, event, state))
        batch.owners.append(None)
        self._add_replies(batch, event, state.person_id, state.conversation_id,
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
        a = event.attachment
        body["attachment"] = {"kind": a.kind, "ref": a.ref, "name": a.name,
                              "mime_type": a.mime_type}
        kind = "attachment"
    return repo.message_row(channel=event.channel, address=event.sender,
                            direction=repo.INBOUND, kind=kind, body=body,
                            person_id=state.person_id, conversation_id=state.conversation_id,
                            now=now)


def _outbound(message_id: int, row: dict[str, Any]) -> OutboundMessage:
    body: dict[str, Any] = row["body"]
    return OutboundMessage(
        id=message_id, channel=row["channel"], recipient=row["address"], text=body["text"],
        options=tuple(OutboundOption(p, label) for p, label in body.get("options", [])),
        language=body.get("language", "nl"),
    )


def to_outbound(row: Message) -> OutboundMessage:
    return _outbound(row.id, {"channel": row.channel, "address": row.address, "body": row.body})
