"""Running a batch of turns in one database transaction (group commit).

Each turn loads the conversation, computes the outcome and saves it with its replies inside
its own savepoint, so one failing turn cannot undo the others. Runs in the engine's single
database thread; nothing here touches the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.conversation import (
    ACTIVE,
    ConversationLogic,
    Outcome,
    Reply,
    Snapshot,
)
from bot.events import InboundEvent, OutboundMessage, OutboundOption
from storage import repository as repo
from storage.models import Case, Conversation, Message, Person, utcnow

log = logging.getLogger(__name__)


@dataclass
class TurnResult:
    replies: list[OutboundMessage]
    duplicate: bool = False


@dataclass
class DeliveryReport:
    """What the delivery side learned since the last batch, written with the next batch."""

    delivered: list[int] = field(default_factory=list)
    failed: list[tuple[int, str, bool]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.delivered or self.failed)


class TurnRunner:
    def __init__(self, sessions: sessionmaker[Session], logic: ConversationLogic,
                 default_language: str) -> None:
        self.sessions = sessions
        self.logic = logic
        self.default_language = default_language

    def run_batch(self, events: Sequence[InboundEvent],
                  report: DeliveryReport) -> list[TurnResult]:
        with self.sessions.begin() as session:
            now = utcnow()
            repo.mark_delivered(session, report.delivered, now)
            for message_id, reason, permanent in report.failed:
                repo.record_failure(session, message_id, reason, permanent=permanent)
            return [self._run_one(session, event) for event in events]

    def _run_one(self, session: Session, event: InboundEvent) -> TurnResult:
        if not repo.claim_inbound(session, event.channel, event.message_id):
            log.info("inbound.duplicate channel=%s", event.channel)
            return TurnResult(replies=[], duplicate=True)
        try:
            with session.begin_nested():
                return self._turn(session, event)
        except Exception:
            log.exception("turn.failed channel=%s", event.channel)
        with session.begin_nested():
            return self._failed_turn(session, event)

    def _turn(self, session: Session, event: InboundEvent) -> TurnResult:
        person = repo.find_person(session, event.channel, event.sender)
        conversation = repo.current_conversation(session, person.id) if person else None
        if person is None or conversation is None:
            if person is None:
                person = repo.create_person(session, event.channel, event.sender,
                                            self.default_language)
            snapshot = self.logic.start(person.language)
            conversation = repo.start_conversation(
                session, person.id, flow=snapshot.flow, state=snapshot.state,
                status=snapshot.status, language=snapshot.language, data=snapshot.data)
        else:
            snapshot = Snapshot(known=True, flow=conversation.flow, state=conversation.state,
                                status=conversation.status, language=conversation.language,
                                data=conversation.data)
        repo.link_inbound(session, event.channel, event.message_id, person.id)
        inbound = repo.add_message(
            session, channel=event.channel, address=event.sender, direction=repo.INBOUND,
            kind=_inbound_kind(event), body=_inbound_body(event), person_id=person.id,
            conversation_id=conversation.id)
        outcome = self.logic.turn(snapshot, event)
        log.info("turn flow=%s state=%s->%s replies=%d urgent=%s", snapshot.flow,
                 snapshot.state, outcome.state, len(outcome.replies), outcome.urgent)
        if outcome.erase:
            repo.erase_person(session, person.id)
            log.info("person.erased")
            return TurnResult(self._queue(session, event, None, None, outcome.replies,
                                          outcome.language))
        conversation = self._save_conversation(session, person, conversation, outcome)
        self._apply_case(session, person, conversation, outcome, inbound)
        person.last_seen_at = utcnow()
        person.language = outcome.language
        return TurnResult(self._queue(session, event, person.id, conversation.id,
                                      outcome.replies, outcome.language))

    def _save_conversation(self, session: Session, person: Person, conversation: Conversation,
                           outcome: Outcome) -> Conversation:
        if outcome.abandon_case:
            case = repo.case_of(session, conversation.id)
            if case is not None and case.status == repo.INTAKE:
                case.status = repo.ABANDONED
                case.updated_at = utcnow()
        if outcome.new_conversation:
            if conversation.status == ACTIVE:
                conversation.status = repo.ABANDONED
            conversation.updated_at = utcnow()
            return repo.start_conversation(
                session, person.id, flow=outcome.flow, state=outcome.state,
                status=outcome.status, language=outcome.language, data=outcome.data)
        conversation.flow = outcome.flow
        conversation.state = outcome.state
        conversation.status = outcome.status
        conversation.language = outcome.language
        conversation.data = outcome.data
        conversation.updated_at = utcnow()
        return conversation

    def _apply_case(self, session: Session, person: Person, conversation: Conversation,
                    outcome: Outcome, inbound: Message) -> None:
        if not outcome.touches_case:
            return
        now = utcnow()
        case = repo.case_of(session, conversation.id)
        kind = outcome.case_kind or "contact"
        if case is None:
            case = repo.open_case(session, person.id, conversation.id, kind)
            log.info("case.opened case=%s kind=%s", case.id, kind)
        elif outcome.case_kind and case.status == repo.INTAKE and case.kind != outcome.case_kind:
            case.kind = outcome.case_kind
        if outcome.urgent and not case.urgent:
            case.urgent, case.urgent_at = True, now
            log.info("case.urgent case=%s", case.id)
        if outcome.human and not case.human_requested:
            case.human_requested, case.human_requested_at = True, now
            log.info("case.human_requested case=%s", case.id)
        if outcome.submit is not None:
            case.intake = outcome.submit
            case.status, case.submitted_at = repo.SUBMITTED, now
            log.info("case.submitted case=%s kind=%s", case.id, case.kind)
        if outcome.attach_to_case:
            inbound.case_id = case.id
        case.updated_at = now

    def _queue(self, session: Session, event: InboundEvent, person_id: int | None,
               conversation_id: int | None, replies: list[Reply],
               language: str) -> list[OutboundMessage]:
        rows = [
            repo.add_message(
                session, channel=event.channel, address=event.sender,
                direction=repo.OUTBOUND, kind="text", person_id=person_id,
                conversation_id=conversation_id,
                body={"text": reply.text, "language": language,
                      "options": [[o.payload, o.label] for o in reply.options]})
            for reply in replies
        ]
        session.flush()
        return [to_outbound(row) for row in rows]

    def _failed_turn(self, session: Session, event: InboundEvent) -> TurnResult:
        """Keep the message and answer kindly even when the turn itself failed."""
        person = repo.find_person(session, event.channel, event.sender)
        if person is None:
            person = repo.create_person(session, event.channel, event.sender,
                                        self.default_language)
        repo.add_message(session, channel=event.channel, address=event.sender,
                         direction=repo.INBOUND, kind=_inbound_kind(event),
                         body=_inbound_body(event), person_id=person.id)
        text = self.logic.flows.text("error").get(person.language)
        reply = Reply(text.format_map(self.logic.facts))
        return TurnResult(self._queue(session, event, person.id, None, [reply],
                                      person.language))


def to_outbound(row: Message) -> OutboundMessage:
    body: dict[str, Any] = row.body
    return OutboundMessage(
        id=row.id, channel=row.channel, recipient=row.address, text=body["text"],
        options=tuple(OutboundOption(p, label) for p, label in body.get("options", [])),
        language=body.get("language", "nl"),
    )


def _inbound_kind(event: InboundEvent) -> str:
    if event.attachment is not None:
        return "attachment"
    return "option" if event.option is not None else "text"


def _inbound_body(event: InboundEvent) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if event.text is not None:
        body["text"] = event.text
    if event.option is not None:
        body["option"] = event.option
    if event.attachment is not None:
        a = event.attachment
        body["attachment"] = {"kind": a.kind, "ref": a.ref, "name": a.name,
                              "mime_type": a.mime_type}
    return body


__all__ = ["Case", "DeliveryReport", "TurnResult", "TurnRunner", "to_outbound"]
