"""Who besides a case's expert may see it, and who may not reach experts at all: colleagues
reading along (``overleg``) and blocked accounts (``blokkeer``). SQLAlchemy Core on the
caller's connection; nothing here commits."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, insert, select, update

from storage.models import CaseConsult
from storage.repository import PEOPLE

CONSULTS = cast(Table, CaseConsult.__table__)


def is_blocked(connection: Connection, person_id: int) -> bool:
    found = connection.execute(select(PEOPLE.c.blocked_at).where(PEOPLE.c.id == person_id))
    return found.scalar() is not None


def set_blocked(connection: Connection, person_id: int, now: datetime | None,
                by: str | None) -> bool:
    """Block (``now`` a time) or unblock (``now`` None) an account; whether that changed it."""
    already = PEOPLE.c.blocked_at.is_(None) if now is not None else \
        PEOPLE.c.blocked_at.is_not(None)
    done = connection.execute(update(PEOPLE).where(PEOPLE.c.id == person_id, already)
                              .values(blocked_at=now, blocked_by=by))
    return done.rowcount == 1


def consultants(connection: Connection, case_id: int) -> list[str]:
    """The experts reading along with a case now, in the order they were asked."""
    rows = connection.execute(select(CONSULTS.c.expert).where(
        CONSULTS.c.case_id == case_id, CONSULTS.c.ended_at.is_(None)).order_by(CONSULTS.c.id))
    return list(rows.scalars())


def add_consultant(connection: Connection, case_id: int, expert: str, asked_by: str,
                   now: datetime) -> None:
    connection.execute(insert(CONSULTS).values(case_id=case_id, expert=expert,
                                               asked_by=asked_by, asked_at=now))


def end_consultant(connection: Connection, case_id: int, expert: str, now: datetime) -> bool:
    done = connection.execute(update(CONSULTS).where(
        CONSULTS.c.case_id == case_id, CONSULTS.c.expert == expert,
        CONSULTS.c.ended_at.is_(None)).values(ended_at=now))
    return done.rowcount > 0
