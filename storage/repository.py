"""Data access for the engine. Every function works inside the caller's session and
transaction; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Case, Conversation, Message, Person, ProcessedInbound, utcnow

INTAKE = "intake"
SUBMITTED = "submitted"
ABANDONED = "abandoned"
INBOUND, OUTBOUND = "in", "out"


def claim_inbound(session: Session, channel: str, platform_message_id: str) -> bool:
    """Record a platform message id; ``False`` if it was handled before."""
    try:
        with session.begin_nested():
            session.add(ProcessedInbound(channel=channel, platform_message_id=platform_message_id))
    except IntegrityError:
        return False
    return True


def link_inbound(session: Session, channel: str, platform_message_id: str,
                 person_id: int) -> None:
    session.execute(
        update(ProcessedInbound)
        .where(ProcessedInbound.channel == channel,
               ProcessedInbound.platform_message_id == platform_message_id)
        .values(person_id=person_id)
    )


def find_person(session: Session, channel: str, address: str) -> Person | None:
    return session.scalars(
        select(Person).where(Person.channel == channel, Person.address == address)
    ).one_or_none()


def create_person(session: Session, channel: str, address: str, language: str) -> Person:
    person = Person(channel=channel, address=address, language=language)
    session.add(person)
    session.flush()
    return person


def current_conversation(session: Session, person_id: int) -> Conversation | None:
    return session.scalars(
        select(Conversation)
        .where(Conversation.person_id == person_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    ).one_or_none()


def start_conversation(session: Session, person_id: int, *, flow: str, state: str,
                       status: str, language: str, data: dict[str, Any]) -> Conversation:
    conversation = Conversation(person_id=person_id, flow=flow, state=state, status=status,
                                language=language, data=data)
    session.add(conversation)
    session.flush()
    return conversation


def case_of(session: Session, conversation_id: int) -> Case | None:
    return session.scalars(
        select(Case).where(Case.conversation_id == conversation_id).order_by(Case.id.desc())
        .limit(1)
    ).one_or_none()


def open_case(session: Session, person_id: int, conversation_id: int, kind: str) -> Case:
    case = Case(person_id=person_id, conversation_id=conversation_id, kind=kind, status=INTAKE,
                intake={})
    session.add(case)
    session.flush()
    return case


def add_message(session: Session, *, channel: str, address: str, direction: str, kind: str,
                body: dict[str, Any], person_id: int | None,
                conversation_id: int | None = None, case_id: int | None = None) -> Message:
    message = Message(channel=channel, address=address, direction=direction, kind=kind,
                      body=body, person_id=person_id, conversation_id=conversation_id,
                      case_id=case_id)
    session.add(message)
    return message


def erase_person(session: Session, person_id: int) -> None:
    """Delete a person; the database cascades to everything that refers to them."""
    session.execute(delete(Person).where(Person.id == person_id))
    session.expunge_all()


def undelivered(session: Session) -> Sequence[Message]:
    return session.scalars(
        select(Message)
        .where(Message.direction == OUTBOUND, Message.delivered_at.is_(None),
               Message.failed_at.is_(None))
        .order_by(Message.id)
    ).all()


def mark_delivered(session: Session, message_ids: Sequence[int], when: datetime) -> None:
    """Mark replies delivered. A reply with no person (the notice after an erasure) is
    deleted instead, so nothing about an erased person stays behind."""
    if not message_ids:
        return
    session.execute(
        delete(Message).where(Message.id.in_(message_ids), Message.person_id.is_(None))
    )
    session.execute(
        update(Message).where(Message.id.in_(message_ids)).values(delivered_at=when)
    )


def record_failure(session: Session, message_id: int, reason: str, *, permanent: bool) -> None:
    values: dict[str, Any] = {"attempts": Message.attempts + 1, "last_error": reason[:64]}
    if permanent:
        values["failed_at"] = utcnow()
    session.execute(update(Message).where(Message.id == message_id).values(**values))
