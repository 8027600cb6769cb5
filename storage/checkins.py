"""Data access for check-ins (nazorg). SQLAlchemy Core on the caller's connection.

Times are stored in UTC: SQLite keeps no zone, so a time in Amsterdam time would be read back
as if it were UTC."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Connection, Table, func, insert, select, update

from storage.cases import as_utc
from storage.models import Checkin
from storage.repository import CONVERSATIONS, PEOPLE, reply_address

CHECKINS = cast(Table, Checkin.__table__)
PLANNED, SENT, CANCELLED, SKIPPED = "planned", "sent", "cancelled", "skipped"


@dataclass(frozen=True)
class CheckinRow:
    id: int
    person_id: int
    case_id: int
    due_at: datetime
    lasting: bool
    status: str
    channel: str
    address: str
    language: str


def insert_checkin(connection: Connection, *, person_id: int, case_id: int, due_at: datetime,
                   lasting: bool, now: datetime) -> int:
    checkin_id: int = connection.execute(
        insert(CHECKINS).values(person_id=person_id, case_id=case_id,
                                due_at=due_at.astimezone(UTC),
                                lasting=lasting, status=PLANNED, created_at=now)
        .returning(CHECKINS.c.id)).scalar_one()
    return checkin_id


def load(connection: Connection, checkin_ids: Sequence[int]) -> list[CheckinRow]:
    reply, channel, address = reply_address()
    rows = connection.execute(
        select(CHECKINS.c.id, CHECKINS.c.person_id, CHECKINS.c.case_id, CHECKINS.c.due_at,
               CHECKINS.c.lasting, CHECKINS.c.status, channel, address, PEOPLE.c.language)
        .select_from(CHECKINS.join(PEOPLE, PEOPLE.c.id == CHECKINS.c.person_id)
                     .outerjoin(*reply))
        .where(CHECKINS.c.id.in_(list(checkin_ids))).order_by(CHECKINS.c.id))
    result = []
    for row in rows:
        values = list(row)
        values[3] = as_utc(values[3])
        result.append(CheckinRow(*values))
    return result


def mark_sent(connection: Connection, checkin_id: int, now: datetime) -> bool:
    """Mark a planned check-in sent; False when it was not planned any more (sent, cancelled)
    — the guard that makes a check-in go out at most once."""
    changed = connection.execute(update(CHECKINS).where(CHECKINS.c.id == checkin_id,
                                                        CHECKINS.c.status == PLANNED)
                                 .values(status=SENT, sent_at=now)).rowcount
    return bool(changed)


def set_status(connection: Connection, checkin_id: int, status: str) -> None:
    connection.execute(update(CHECKINS).where(CHECKINS.c.id == checkin_id)
                       .values(status=status))


def move(connection: Connection, checkin_id: int, due_at: datetime) -> None:
    connection.execute(update(CHECKINS).where(CHECKINS.c.id == checkin_id)
                       .values(due_at=due_at.astimezone(UTC)))


def cancel(connection: Connection, *, person_id: int | None = None,
           case_id: int | None = None) -> list[int]:
    """Cancel the planned check-ins of a person or a case; their ids."""
    where = [CHECKINS.c.status == PLANNED]
    if person_id is not None:
        where.append(CHECKINS.c.person_id == person_id)
    if case_id is not None:
        where.append(CHECKINS.c.case_id == case_id)
    ids = list(connection.scalars(select(CHECKINS.c.id).where(*where)))
    if ids:
        connection.execute(update(CHECKINS).where(CHECKINS.c.id.in_(ids))
                           .values(status=CANCELLED))
    return ids


def planned_for_case(connection: Connection, case_id: int) -> list[tuple[int, datetime]]:
    rows = connection.execute(select(CHECKINS.c.id, CHECKINS.c.due_at)
                              .where(CHECKINS.c.case_id == case_id,
                                     CHECKINS.c.status == PLANNED).order_by(CHECKINS.c.due_at))
    return [(checkin_id, as_utc(due) or due) for checkin_id, due in rows]


def current_conversation(connection: Connection,
                         person_id: int) -> tuple[str, str, datetime] | None:
    """(flow, status, updated_at) of the person's latest conversation."""
    row = connection.execute(select(CONVERSATIONS.c.flow, CONVERSATIONS.c.status,
                                    CONVERSATIONS.c.updated_at)
                             .where(CONVERSATIONS.c.person_id == person_id)
                             .order_by(CONVERSATIONS.c.id.desc()).limit(1)).one_or_none()
    if row is None:
        return None
    flow, status, updated = row
    return flow, status, as_utc(updated) or updated


def due_ids(connection: Connection, now: datetime, limit: int) -> list[int]:
    """The oldest planned check-ins that are due, at most ``limit`` (uses the status/due index)."""
    return list(connection.scalars(
        select(CHECKINS.c.id).where(CHECKINS.c.status == PLANNED, CHECKINS.c.due_at <= now)
        .order_by(CHECKINS.c.due_at, CHECKINS.c.id).limit(limit)))


def next_due(connection: Connection) -> datetime | None:
    """When the next planned check-in falls due."""
    due = connection.execute(select(func.min(CHECKINS.c.due_at))
                             .where(CHECKINS.c.status == PLANNED)).scalar_one_or_none()
    return as_utc(due) if due is not None else None
