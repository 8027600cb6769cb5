"""Typed SQLAlchemy models. Every row that holds personal data hangs off ``people``
with ``ON DELETE CASCADE``, so erasing a person erases everything about them. What a person
wrote or sent (message bodies, answers, the intake) is stored encrypted (:mod:`storage.crypto`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.crypto import EncryptedJSON

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NEVER_REUSE_IDS: dict[str, Any] = {"sqlite_autoincrement": True}
"""SQLite gives out the highest id again after it was deleted, unless told not to: a new
person's case would get an erased case's number (and its audit trail), a new reply an old
outbox id (which Matrix drops as a resend). PostgreSQL's sequences never go back."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        datetime: DateTime(timezone=True),
    }


class Person(Base):
    """One identity on one channel (a Telegram user, a Matrix user, the console).

    Identities a person linked (``koppel``) point to the first with ``linked_to``; that one
    holds every conversation, case and message, and ``reply_identity_id`` says which identity
    the person used last, where messages to them go."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("channel", "address"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    linked_to: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), default=None, index=True)
    reply_identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None)
    blocked_at: Mapped[datetime | None] = mapped_column(default=None)
    """Blocked by the team (``blokkeer``): what this account writes is kept, not passed on to
    experts, and its cases are not offered to anyone, until a coordinator lifts the block."""
    blocked_by: Mapped[str | None] = mapped_column(String(32), default=None)


class Conversation(Base):
    """One run through the bot, from the menu to the end of a flow.

    ``data`` holds the answers and the navigation history; ``state`` is the current step.
    """

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_person_current", "person_id", "id"),
                      NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON(), default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    """What the network acts on: the intake result, its status and urgency."""

    __tablename__ = "cases"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    human_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    intake: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON(), default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    urgent_at: Mapped[datetime | None] = mapped_column(default=None)
    human_requested_at: Mapped[datetime | None] = mapped_column(default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Routing to experts (see bot.routing).
    specialties: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    assigned_expert: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalate_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    first_asked_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    first_answer_at: Mapped[datetime | None] = mapped_column(default=None)
    contact_due_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    """When its expert, who took it, is late in writing to the person (or noting a call)."""
    contact_reminders: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """1: the expert was reminded; 2: the coordinators and the person were told."""
    # Triage (see flows/triage.yaml): the level, the rules that gave it, and the signals seen.
    urgency: Mapped[str] = mapped_column(String(8), default="normaal", server_default="normaal")
    urgency_reasons: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    urgency_set_by: Mapped[str | None] = mapped_column(String(32), default=None)
    """An expert who chose the level; it then stays until a new danger or crisis signal."""
    signals: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    # Verification by the team (never asked of the person in the chat).
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    verified_by: Mapped[str | None] = mapped_column(String(32), default=None)
    verified_how: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON(), default=None)


class Handoff(Base):
    """One expert asked to take one case. The first accept wins; the others are told."""

    __tablename__ = "handoffs"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    expert: Mapped[str] = mapped_column(String(32), index=True)
    level: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)


class Checkin(Base):
    """A planned check-in (nazorg). It is marked sent in the same transaction that queues its
    message, so it is never sent twice."""

    __tablename__ = "checkins"
    __table_args__ = (Index("ix_checkins_status_due", "status", "due_at"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime]
    lasting: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class CaseNote(Base):
    """An expert's internal note on a case; the person never sees it."""

    __tablename__ = "case_notes"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON(), default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseConsult(Base):
    """A colleague asked to read along with a case (``overleg``): they may read its file and
    add notes, without taking it. Ended when ``ended_at`` is set or the case closes."""

    __tablename__ = "case_consults"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    expert: Mapped[str] = mapped_column(String(32), index=True)
    asked_by: Mapped[str] = mapped_column(String(32))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class DeskLogin(Base):
    """A coordinator's sign-in to the web desk: first a one-time link (``token_hash``, a keyed
    hash) sent to their chat, then, once used, the session it opened, which ends at
    ``ended_at`` (signing out) or ``expires_at``. No person's data."""

    __tablename__ = "desk_logins"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    expert: Mapped[str] = mapped_column(String(32), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    link_expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class ExpertSession(Base):
    """Per expert: the case their plain messages go to."""

    __tablename__ = "expert_sessions"

    expert: Mapped[str] = mapped_column(String(32), primary_key=True)
    active_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), default=None)


class AuditEntry(Base):
    """Who read or did what to which case, and when. No content and no person's data, so
    it stays when a case or person is deleted (the case id then points nowhere)."""

    __tablename__ = "audit_log"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    detail: Mapped[str | None] = mapped_column(String(64), default=None)


class Message(Base):
    """Every message in and out. Outbound rows without ``delivered_at`` are the outbox."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_outbox", "direction", "delivered_at", "id"),
        Index("ix_messages_person", "person_id", "id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(255))
    direction: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON(), default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(64), default=None)
    platform_refs: Mapped[list[str] | None] = mapped_column(EncryptedJSON(), default=None)
    """The platform's ids of this message in the chat (Telegram message ids, Matrix event
    ids), so that the person can have the chat wiped from their device; cleared once it is.
    Encrypted: with access to the homeserver, a Matrix event id leads to the message."""


class CaseFact(Base):
    """Anonymous facts of a submitted case, kept for statistics after the case is deleted.
    No link to a person, no free text."""

    __tablename__ = "case_facts"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(32))
    incident_type: Mapped[str | None] = mapped_column(String(32), default=None)
    how: Mapped[str | None] = mapped_column(String(32), default=None)
    role: Mapped[str | None] = mapped_column(String(32), default=None)
    aangifte: Mapped[str | None] = mapped_column(String(16), default=None)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)


class AcceptFact(Base):
    """How long a case waited for an expert's accept, kept for statistics after the case is
    deleted. No link to the case or the person."""

    __tablename__ = "accept_facts"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    seconds: Mapped[int] = mapped_column(Integer)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    """Not accepted by the first expert(s) asked: moved on, or only a coordinator was free."""


class ProcessedInbound(Base):
    """Platform message ids already handled, so a redelivered message is ignored."""

    __tablename__ = "processed_inbound"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    platform_message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)


class LinkCode(Base):
    """A one-time code that links another account to this person (``koppel``): stored as a
    keyed hash, valid for minutes, used once."""

    __tablename__ = "link_codes"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           index=True)
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class LinkAttempt(Base):
    """A wrong code sent by an identity, for the limit on guessing."""

    __tablename__ = "link_attempts"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"),
                                           index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class KeyCheck(Base):
    """One value encrypted with the current key. A start with keys that cannot read it is
    refused before anything is stored (see :func:`storage.keycheck.verify_keys`)."""

    __tablename__ = "key_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())



class OneOffClaim(Base):
    """One-off work that several replicas would each do (telling experts of a changed rota):
    the first to write its key does it, the others see the key and do not."""

    __tablename__ = "one_off_claims"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
