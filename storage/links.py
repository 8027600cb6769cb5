"""Data access for linking a person's accounts (``koppel``): one-time codes, the wrong codes
tried, and moving everything of one identity to another. Core on the caller's connection;
nothing here commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, delete, func, insert, or_, select, update

from storage import crypto
from storage.models import Base, LinkAttempt, LinkCode
from storage.repository import CONVERSATIONS, PEOPLE

CODES = cast(Table, LinkCode.__table__)
ATTEMPTS = cast(Table, LinkAttempt.__table__)
HOUR = timedelta(hours=1)


def codes_made_since(connection: Connection, person_id: int, since: datetime) -> int:
    return int(connection.execute(select(func.count()).select_from(CODES).where(
        CODES.c.person_id == person_id, CODES.c.created_at > since)).scalar_one())


def new_code(connection: Connection, person_id: int, code: str, now: datetime,
             valid: timedelta) -> None:
    """Keep ``code`` (as a keyed hash) for ``valid``; earlier unused codes of the person end."""
    connection.execute(update(CODES).where(CODES.c.person_id == person_id,
                                           CODES.c.used_at.is_(None))
                       .values(expires_at=now))
    connection.execute(insert(CODES).values(
        person_id=person_id, code_hash=crypto.fingerprints(code)[0], created_at=now,
        expires_at=now + valid))


def use_code(connection: Connection, code: str, now: datetime) -> int | None:
    """The person whose live code this is (the code is then used up), or None."""
    row = connection.execute(
        select(CODES.c.id, CODES.c.person_id)
        .where(CODES.c.code_hash.in_(crypto.fingerprints(code)), CODES.c.used_at.is_(None),
               CODES.c.expires_at > now)
        .order_by(CODES.c.id.desc()).limit(1)).one_or_none()
    if row is None:
        return None
    connection.execute(update(CODES).where(CODES.c.id == row.id).values(used_at=now))
    return int(row.person_id)


def failed_attempts_since(connection: Connection, person_id: int, since: datetime) -> int:
    return int(connection.execute(select(func.count()).select_from(ATTEMPTS).where(
        ATTEMPTS.c.person_id == person_id, ATTEMPTS.c.at > since)).scalar_one())


def record_failed_attempt(connection: Connection, person_id: int, now: datetime) -> None:
    connection.execute(insert(ATTEMPTS).values(person_id=person_id, at=now))


def identity(connection: Connection, identity_id: int) -> tuple[int, int | None] | None:
    """(id, linked_to) of an identity."""
    row = connection.execute(select(PEOPLE.c.id, PEOPLE.c.linked_to)
                             .where(PEOPLE.c.id == identity_id)).one_or_none()
    return (int(row[0]), row[1]) if row is not None else None


def identities_of(connection: Connection, person_id: int) -> list[tuple[int, str, str]]:
    """(id, channel, address) of the person's own identity and every one linked to it."""
    rows = connection.execute(
        select(PEOPLE.c.id, PEOPLE.c.channel, PEOPLE.c.address)
        .where(or_(PEOPLE.c.id == person_id, PEOPLE.c.linked_to == person_id))
        .order_by(PEOPLE.c.id))
    return [(int(i), str(c), str(a)) for i, c, a in rows]


def _person_tables() -> list[Table]:
    """Every table with rows that belong to a person (``person_id``)."""
    return [table for table in Base.metadata.sorted_tables
            if "person_id" in table.c and table.name != "people"]


def link(connection: Connection, identity_id: int, owner_id: int) -> None:
    """Make ``identity_id`` an identity of ``owner_id``: what it had (its cases, messages,
    check-ins) moves to the owner, whose conversation goes on; its own conversations (at
    most a start) are dropped. Identities linked to it follow."""
    connection.execute(delete(CONVERSATIONS).where(CONVERSATIONS.c.person_id == identity_id))
    move_everything(connection, identity_id, owner_id)
    connection.execute(update(PEOPLE).where(PEOPLE.c.linked_to == identity_id)
                       .values(linked_to=owner_id))
    connection.execute(update(PEOPLE).where(PEOPLE.c.id == identity_id)
                       .values(linked_to=owner_id, reply_identity_id=None))
    connection.execute(update(PEOPLE).where(PEOPLE.c.id == owner_id)
                       .values(reply_identity_id=identity_id))


def move_everything(connection: Connection, source: int, target: int) -> None:
    for table in _person_tables():
        connection.execute(update(table).where(table.c.person_id == source)
                           .values(person_id=target))


def unlink(connection: Connection, identity_id: int, owner_id: int) -> None:
    """Detach ``identity_id`` (which starts afresh) from the person. When it is the owner
    itself, everything first moves to the identity linked to it longest ago."""
    if identity_id == owner_id:
        others = [i for i, _, _ in identities_of(connection, owner_id) if i != owner_id]
        if not others:
            return
        heir = others[0]
        move_everything(connection, owner_id, heir)
        language = select(PEOPLE.c.language).where(PEOPLE.c.id == owner_id).scalar_subquery()
        connection.execute(update(PEOPLE).where(PEOPLE.c.id == heir)
                           .values(linked_to=None, reply_identity_id=None, language=language))
        connection.execute(update(PEOPLE).where(PEOPLE.c.linked_to == owner_id)
                           .values(linked_to=heir))
        connection.execute(update(PEOPLE).where(PEOPLE.c.id == owner_id)
                           .values(reply_identity_id=None))
        return
    connection.execute(update(PEOPLE).where(PEOPLE.c.id == identity_id)
                       .values(linked_to=None))
    connection.execute(update(PEOPLE).where(PEOPLE.c.id == owner_id,
                                            PEOPLE.c.reply_identity_id == identity_id)
                       .values(reply_identity_id=None))
