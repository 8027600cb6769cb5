"""Data access for routing cases to experts: handoffs, expert sessions, notes and the audit
log. SQLAlchemy Core on the caller's connection; nothing here commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, select, update

from storage.case_status import OPEN_STATUSES, CaseStatus, OfferStatus
from storage.case_types import CaseInfo
from storage.models import AuditEntry, CaseNote, ExpertSession, Handoff
from storage.repository import CASES, CONVERSATIONS, MESSAGES, PEOPLE, reply_address

HANDOFFS = cast(Table, Handoff.__table__)
SESSIONS = cast(Table, ExpertSession.__table__)
NOTES = cast(Table, CaseNote.__table__)
AUDIT = cast(Table, AuditEntry.__table__)

# Messages an expert sent into a case (stored with the case's person, who may erase them).
EXPERT_MESSAGE = "expert"
# The conversation of a closed case: the person's next message starts afresh.
CONVERSATION_CLOSED = "closed"


@dataclass(frozen=True)
class HandoffRow:
    id: int
    case_id: int
    expert: str
    status: str


(_REPLY, _REPLY_JOIN), _REPLY_CHANNEL, _REPLY_ADDRESS = reply_address()
_CASE_COLUMNS = (CASES.c.id, CASES.c.kind, CASES.c.status, CASES.c.urgent,
                 CASES.c.human_requested, CASES.c.person_id,
                 _REPLY_CHANNEL, _REPLY_ADDRESS, PEOPLE.c.language, CASES.c.conversation_id,
                 CASES.c.specialties, CASES.c.assigned_expert, CASES.c.escalation_level,
                 CASES.c.intake, CASES.c.created_at, CASES.c.first_asked_at,
                 CASES.c.accepted_at, CASES.c.first_answer_at, CASES.c.urgency,
                 CASES.c.urgency_reasons, CASES.c.urgency_set_by, CASES.c.signals,
                 CASES.c.verified_at, CASES.c.verified_by, CASES.c.verified_how,
                 PEOPLE.c.blocked_at.is_not(None).label("blocked"), CASES.c.contact_due_at,
                 CASES.c.contact_reminders)
_TIMES = ("created_at", "first_asked_at", "accepted_at", "first_answer_at", "verified_at",
          "contact_due_at")
_CASES_WITH_PEOPLE = select(*_CASE_COLUMNS).select_from(
    CASES.join(PEOPLE, PEOPLE.c.id == CASES.c.person_id).outerjoin(_REPLY, _REPLY_JOIN))


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite gives back times without their zone; they were stored in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _case(row: Any) -> CaseInfo:
    values = dict(row._mapping)
    values["specialties"] = list(values["specialties"] or [])
    values["intake"] = dict(values["intake"] or {})
    values["urgency_reasons"] = tuple(values["urgency_reasons"] or ())
    values["signals"] = tuple(values["signals"] or ())
    values["verified_how"] = (values["verified_how"] or {}).get("text")
    values["blocked"] = bool(values["blocked"])
    for name in _TIMES:
        values[name] = as_utc(values[name])
    return CaseInfo(**values)


def load_case(connection: Connection, case_id: int) -> CaseInfo | None:
    row = connection.execute(_CASES_WITH_PEOPLE.where(CASES.c.id == case_id)).one_or_none()
    return _case(row) if row is not None else None


def assigned_case_of_person(connection: Connection, person_id: int) -> CaseInfo | None:
    """The person's latest case an expert has taken, if any."""
    row = connection.execute(_CASES_WITH_PEOPLE.where(CASES.c.person_id == person_id,
                                                      CASES.c.status == CaseStatus.ASSIGNED)
                             .order_by(CASES.c.id.desc()).limit(1)).one_or_none()
    return _case(row) if row is not None else None


_PEOPLE_WITH_ASSIGNED_CASE = select(CASES.c.person_id).distinct().where(
    CASES.c.person_id.in_(bindparam("ids", expanding=True)), CASES.c.status == CaseStatus.ASSIGNED)


def people_with_assigned_case(connection: Connection, person_ids: Iterable[int]) -> set[int]:
    """Which of these people have a case an expert has taken (one query for a batch, built
    once: it runs for every batch)."""
    ids = list(person_ids)
    if not ids:
        return set()
    return set(connection.execute(_PEOPLE_WITH_ASSIGNED_CASE, {"ids": ids}).scalars())


def open_cases_of_person(connection: Connection, person_id: int) -> list[CaseInfo]:
    rows = connection.execute(_CASES_WITH_PEOPLE.where(CASES.c.person_id == person_id,
                                                       CASES.c.status.in_(OPEN_STATUSES)))
    return [_case(row) for row in rows]


def due_cases(connection: Connection, now: datetime, limit: int = 100) -> list[CaseInfo]:
    rows = connection.execute(_CASES_WITH_PEOPLE.where(CASES.c.escalate_at <= now,
                                                       CASES.c.status == CaseStatus.ASKING)
                              .order_by(CASES.c.escalate_at).limit(limit))
    return [_case(row) for row in rows]


def contact_due(connection: Connection, now: datetime, limit: int = 100) -> list[CaseInfo]:
    """Cases taken whose expert is late in making contact (see :mod:`bot.first_contact`)."""
    rows = connection.execute(_CASES_WITH_PEOPLE.where(CASES.c.contact_due_at <= now,
                                                       CASES.c.status == CaseStatus.ASSIGNED)
                              .order_by(CASES.c.contact_due_at).limit(limit))
    return [_case(row) for row in rows]


def assigned_cases(connection: Connection, expert: str) -> list[CaseInfo]:
    rows = connection.execute(_CASES_WITH_PEOPLE.where(CASES.c.assigned_expert == expert,
                                                       CASES.c.status == CaseStatus.ASSIGNED)
                              .order_by(CASES.c.id))
    return [_case(row) for row in rows]


def cases_assigned_outside(connection: Connection, experts: Iterable[str]) -> list[CaseInfo]:
    """Taken cases whose expert is not one of ``experts`` (no longer on the roster)."""
    rows = connection.execute(_CASES_WITH_PEOPLE.where(
        CASES.c.status == CaseStatus.ASSIGNED, CASES.c.assigned_expert.not_in(list(experts)))
        .order_by(CASES.c.id))
    return [_case(row) for row in rows]


def offers_outside(connection: Connection, experts: Iterable[str]) -> list[HandoffRow]:
    """Open offers to experts not among ``experts`` (no longer on the roster)."""
    rows = connection.execute(
        select(HANDOFFS.c.id, HANDOFFS.c.case_id, HANDOFFS.c.expert, HANDOFFS.c.status)
        .where(HANDOFFS.c.status == OfferStatus.ASKED, HANDOFFS.c.expert.not_in(list(experts)))
        .order_by(HANDOFFS.c.id))
    return [HandoffRow(*row) for row in rows]


def open_counts(connection: Connection, experts: Iterable[str]) -> dict[str, int]:
    """How many assigned cases each expert has now."""
    names = list(experts)
    counts = dict.fromkeys(names, 0)
    if names:
        rows = connection.execute(
            select(CASES.c.assigned_expert, func.count())
            .where(CASES.c.status == CaseStatus.ASSIGNED, CASES.c.assigned_expert.in_(names))
            .group_by(CASES.c.assigned_expert))
        counts.update({expert: count for expert, count in rows})
    return counts


class ConversationAnswers(NamedTuple):
    flow: str
    answers: dict[str, Any]
    status: str


def conversation_answers(connection: Connection,
                         conversation_id: int) -> ConversationAnswers | None:
    """The flow, answers and status of a conversation."""
    row = connection.execute(select(CONVERSATIONS.c.flow, CONVERSATIONS.c.data,
                                    CONVERSATIONS.c.status)
                             .where(CONVERSATIONS.c.id == conversation_id)).one_or_none()
    if row is None:
        return None
    flow, data, status = row
    return ConversationAnswers(flow, dict((data or {}).get("answers", {})), status)


def close_conversation(connection: Connection, conversation_id: int) -> None:
    connection.execute(update(CONVERSATIONS).where(CONVERSATIONS.c.id == conversation_id)
                       .values(status=CONVERSATION_CLOSED))


def update_case(connection: Connection, case_id: int, now: datetime, **values: Any) -> None:
    connection.execute(update(CASES).where(CASES.c.id == case_id)
                       .values(updated_at=now, **values))


def bring_forward(connection: Connection, case_id: int, now: datetime, moment: datetime,
                  ) -> None:
    """Move the case on at ``moment`` if that is sooner than planned."""
    connection.execute(update(CASES).where(
        CASES.c.id == case_id,
        CASES.c.escalate_at.is_(None) | (CASES.c.escalate_at > moment))
        .values(updated_at=now, escalate_at=moment))


def case_messages(connection: Connection, case_id: int) -> list[tuple[str, dict[str, Any]]]:
    """What was written in the case after the intake, in order: (kind, body). The person's
    messages (evidence, additions, what was passed on) and the experts' (kind
    :data:`EXPERT_MESSAGE`)."""
    rows = connection.execute(select(MESSAGES.c.kind, MESSAGES.c.body)
                              .where(MESSAGES.c.case_id == case_id,
                                     MESSAGES.c.direction == "in")
                              .order_by(MESSAGES.c.id))
    return [(kind, dict(body or {})) for kind, body in rows]


# -- handoffs -----------------------------------------------------------------------------

def handoffs_of_case(connection: Connection, case_id: int) -> list[HandoffRow]:
    rows = connection.execute(select(HANDOFFS.c.id, HANDOFFS.c.case_id, HANDOFFS.c.expert,
                                     HANDOFFS.c.status)
                              .where(HANDOFFS.c.case_id == case_id).order_by(HANDOFFS.c.id))
    return [HandoffRow(*row) for row in rows]


def handoff(connection: Connection, handoff_id: int) -> HandoffRow | None:
    row = connection.execute(select(HANDOFFS.c.id, HANDOFFS.c.case_id, HANDOFFS.c.expert,
                                    HANDOFFS.c.status)
                             .where(HANDOFFS.c.id == handoff_id)).one_or_none()
    return HandoffRow(*row) if row is not None else None


def pending_handoffs_of(connection: Connection, expert: str) -> list[HandoffRow]:
    rows = connection.execute(
        select(HANDOFFS.c.id, HANDOFFS.c.case_id, HANDOFFS.c.expert, HANDOFFS.c.status)
        .select_from(HANDOFFS.join(CASES, CASES.c.id == HANDOFFS.c.case_id))
        .where(HANDOFFS.c.expert == expert, HANDOFFS.c.status == OfferStatus.ASKED,
               CASES.c.status == CaseStatus.ASKING).order_by(HANDOFFS.c.id))
    return [HandoffRow(*row) for row in rows]


def insert_handoff(connection: Connection, case_id: int, expert: str, level: int,
                   now: datetime) -> int:
    handoff_id: int = connection.execute(
        insert(HANDOFFS).values(case_id=case_id, expert=expert, level=level,
                                status=OfferStatus.ASKED, asked_at=now)
        .returning(HANDOFFS.c.id)).scalar_one()
    return handoff_id


def set_handoff_status(connection: Connection, handoff_ids: Sequence[int], status: str,
                       now: datetime) -> None:
    if handoff_ids:
        connection.execute(update(HANDOFFS).where(HANDOFFS.c.id.in_(list(handoff_ids)))
                           .values(status=status, answered_at=now))


# -- expert sessions ------------------------------------------------------------------------

def active_case(connection: Connection, expert: str) -> int | None:
    """The case an expert's plain messages go to."""
    case_id: int | None = connection.execute(
        select(SESSIONS.c.active_case_id).where(SESSIONS.c.expert == expert)).scalar()
    return case_id


def save_session(connection: Connection, expert: str, *, active_case_id: int | None) -> None:
    updated = connection.execute(update(SESSIONS).where(SESSIONS.c.expert == expert)
                                 .values(active_case_id=active_case_id)).rowcount
    if not updated:
        connection.execute(insert(SESSIONS).values(expert=expert,
                                                   active_case_id=active_case_id))


# -- notes and audit ------------------------------------------------------------------------

def add_note(connection: Connection, case_id: int, author: str, text: str,
             now: datetime) -> None:
    connection.execute(insert(NOTES).values(case_id=case_id, author=author,
                                            body={"text": text}, created_at=now))


def insert_audits(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Audit entries: at, actor, action, case_id, detail (see ``WriteBuffer.audit``)."""
    if rows:
        connection.execute(insert(AUDIT), list(rows))



def audit_entries(connection: Connection, case_id: int,
                  limit: int = 30) -> list[tuple[datetime, str, str, str | None]]:
    """(when, who, what, detail) of a case, newest first."""
    rows = connection.execute(select(AUDIT.c.at, AUDIT.c.actor, AUDIT.c.action, AUDIT.c.detail)
                              .where(AUDIT.c.case_id == case_id)
                              .order_by(AUDIT.c.id.desc()).limit(limit))
    return [(as_utc(at) or at, actor, action, detail) for at, actor, action, detail in rows]


PAGER_CHANNEL = "sms"
"""Pages go out as messages on this channel, addressed to the expert's id (the number is
looked up in the roster when the page is sent, so none is stored)."""


def paged_experts(connection: Connection, case_id: int) -> set[str]:
    """The experts already paged for a case."""
    rows = connection.execute(select(MESSAGES.c.address).distinct().where(
        MESSAGES.c.case_id == case_id, MESSAGES.c.channel == PAGER_CHANNEL))
    return set(rows.scalars())
