"""Data access for the coordinators' sign-ins to the web desk: a one-time link made in the
chat, used once within minutes, then the session it opened. Core on the caller's connection;
nothing here commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple, cast

from sqlalchemy import Connection, Table, insert, select, update

from storage import crypto
from storage.cases import as_utc
from storage.models import DeskLogin

LOGINS = cast(Table, DeskLogin.__table__)


class DeskSession(NamedTuple):
    id: int
    expert: str
    expires_at: datetime


def new_link(connection: Connection, expert: str, token: str, now: datetime,
             valid: timedelta) -> None:
    """Keep ``token`` (as a keyed hash) for ``valid``; the expert's unused links end."""
    connection.execute(update(LOGINS).where(LOGINS.c.expert == expert,
                                            LOGINS.c.used_at.is_(None))
                       .values(link_expires_at=now))
    connection.execute(insert(LOGINS).values(
        expert=expert, token_hash=crypto.fingerprints(token)[0], created_at=now,
        link_expires_at=now + valid))


def use_link(connection: Connection, token: str, now: datetime,
             lasts: timedelta) -> DeskSession | None:
    """The session a live link opens (the link is then used up), or None."""
    row = connection.execute(
        select(LOGINS.c.id, LOGINS.c.expert)
        .where(LOGINS.c.token_hash.in_(crypto.fingerprints(token)), LOGINS.c.used_at.is_(None),
               LOGINS.c.link_expires_at > now)
        .order_by(LOGINS.c.id.desc()).limit(1)).one_or_none()
    if row is None:
        return None
    done = connection.execute(update(LOGINS).where(LOGINS.c.id == row.id,
                                                   LOGINS.c.used_at.is_(None))
                              .values(used_at=now, expires_at=now + lasts))
    if done.rowcount != 1:  # used by a request a moment earlier
        return None
    return DeskSession(int(row.id), str(row.expert), now + lasts)


def live_session(connection: Connection, session_id: int, now: datetime) -> DeskSession | None:
    row = connection.execute(select(LOGINS.c.id, LOGINS.c.expert, LOGINS.c.expires_at).where(
        LOGINS.c.id == session_id, LOGINS.c.used_at.is_not(None),
        LOGINS.c.ended_at.is_(None))).one_or_none()
    expires = as_utc(row.expires_at) if row is not None else None
    if row is None or expires is None or expires <= now:
        return None
    return DeskSession(int(row.id), str(row.expert), expires)


def end_session(connection: Connection, session_id: int, now: datetime) -> None:
    connection.execute(update(LOGINS).where(LOGINS.c.id == session_id,
                                            LOGINS.c.ended_at.is_(None)).values(ended_at=now))
