"""Data access for the engine, in SQLAlchemy Core on the caller's connection and transaction.
Nothing here commits. Statements that the engine runs for every turn are written to be sent
once per batch (executemany) where they can, and are built once at import (``_UPPER_CASE``):
building a statement and its cache key costs more than running it on SQLite."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from storage import crypto
from storage.case_status import CaseStatus
from storage.case_types import CaseHead
from storage.models import Case, Conversation, Message, Person, ProcessedInbound, utcnow

CONVERSATION_ABANDONED = "abandoned"
"""A conversation left for a new one (its case, if any, was abandoned in intake)."""
INBOUND, OUTBOUND = "in", "out"

PEOPLE = cast(Table, Person.__table__)
CONVERSATIONS = cast(Table, Conversation.__table__)
CASES = cast(Table, Case.__table__)
MESSAGES = cast(Table, Message.__table__)
PROCESSED = cast(Table, ProcessedInbound.__table__)


@dataclass(frozen=True)
class PersonRow:
    """A person and their latest conversation (``conversation_id`` is None if they have none)."""

    person_id: int
    language: str
    conversation_id: int | None
    flow: str
    state: str
    status: str
    conversation_language: str
    data: dict[str, Any]
    identity_id: int = 0
    """The identity written from: ``person_id`` itself, or one linked to it."""
    reply_identity_id: int | None = None


# -- inbound ids ---------------------------------------------------------------------------

_KEYS_PER_QUERY = 500  # stays well under SQLite's limit of bound parameters


def _by_channel(keys: Iterable[tuple[str, str]]) -> Iterator[tuple[str, list[str]]]:
    """Keys grouped per channel and chunked, for ``channel = ? AND x IN (...)``: a form
    every database answers from the (channel, x) index. (SQLite scans the whole table for
    a row-value ``(channel, x) IN (...)``.)"""
    grouped: dict[str, set[str]] = {}
    for channel, value in keys:
        grouped.setdefault(channel, set()).add(value)
    for channel, values in grouped.items():
        ordered = sorted(values)
        for start in range(0, len(ordered), _KEYS_PER_QUERY):
            yield channel, ordered[start:start + _KEYS_PER_QUERY]


_PROCESSED_LOOKUP = (
    select(PROCESSED.c.platform_message_id)
    .where(PROCESSED.c.channel == bindparam("channel"),
           PROCESSED.c.platform_message_id.in_(bindparam("ids", expanding=True))))


def already_processed(connection: Connection,
                      keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (channel, platform message id) pairs were handled before. The ids are stored as
    keyed hashes (:func:`crypto.fingerprints`; every configured key's, for a key rotation),
    as a Telegram id holds the person's chat id."""
    by_hash: dict[tuple[str, str], tuple[str, str]] = {}
    for channel, message_id in keys:
        for digest in crypto.fingerprints(message_id):
            by_hash[(channel, digest)] = (channel, message_id)
    found: set[tuple[str, str]] = set()
    for channel, digests in _by_channel(by_hash):
        rows = connection.execute(_PROCESSED_LOOKUP, {"channel": channel, "ids": digests})
        found.update(by_hash[(channel, digest)] for (digest,) in rows)
    return found


_INSERT_PROCESSED = insert(PROCESSED)


def insert_processed(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Rows with ``platform_message_id`` as the platform gave it; stored as its hash."""
    if rows:
        connection.execute(_INSERT_PROCESSED, [
            {**row, "platform_message_id": crypto.fingerprints(row["platform_message_id"])[0]}
            for row in rows])


# -- people and conversations ----------------------------------------------------------------

def _load_people_statement() -> Select[Any]:
    """By the identity written from; the person is the one it is linked to, if any."""
    identity = PEOPLE.alias("identity")
    others = CONVERSATIONS.alias("latest")
    latest = (select(others.c.id).where(others.c.person_id == PEOPLE.c.id)
              .order_by(others.c.id.desc()).limit(1).correlate(PEOPLE).scalar_subquery())
    owner = func.coalesce(identity.c.linked_to, identity.c.id)
    return (
        select(identity.c.channel, identity.c.address, PEOPLE.c.id, PEOPLE.c.language,
               CONVERSATIONS.c.id, CONVERSATIONS.c.flow, CONVERSATIONS.c.state,
               CONVERSATIONS.c.status, CONVERSATIONS.c.language, CONVERSATIONS.c.data,
               identity.c.id, PEOPLE.c.reply_identity_id)
        .select_from(identity.join(PEOPLE, PEOPLE.c.id == owner)
                     .outerjoin(CONVERSATIONS, CONVERSATIONS.c.id == latest))
        .where(identity.c.channel == bindparam("channel"),
               identity.c.address.in_(bindparam("addresses", expanding=True)))
    )


_LOAD_PEOPLE = _load_people_statement()


def load_people(connection: Connection,
                keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], PersonRow]:
    """People by (channel, address), each with their latest conversation, one query per
    channel."""
    found: dict[tuple[str, str], PersonRow] = {}
    for channel, addresses in _by_channel(keys):
        rows = connection.execute(_LOAD_PEOPLE, {"channel": channel, "addresses": addresses})
        for row_channel, address, *rest in rows:
            found[(row_channel, address)] = PersonRow(*rest)
    return found


def insert_person(connection: Connection, channel: str, address: str, language: str) -> int:
    now = utcnow()
    person_id: int = connection.execute(
        insert(PEOPLE).values(channel=channel, address=address, language=language,
                              created_at=now, last_seen_at=now)
        .returning(PEOPLE.c.id)).scalar_one()
    return person_id


_UPDATE_PEOPLE = (update(PEOPLE).where(PEOPLE.c.id == bindparam("person_id"))
                  .values(language=bindparam("lang"), last_seen_at=bindparam("seen")))
_REPLY_TO = (update(PEOPLE).where(PEOPLE.c.id == bindparam("person_id"))
             .values(reply_identity_id=bindparam("identity")))
_SEEN = (update(PEOPLE).where(PEOPLE.c.id == bindparam("person_id"))
         .values(last_seen_at=bindparam("seen")))


def update_people(connection: Connection, languages: dict[int, str], now: datetime,
                  reply_to: dict[int, int] | None = None,
                  linked_seen: Iterable[int] = ()) -> None:
    """``reply_to``: people who wrote from another identity than last time, and that one
    (messages to them go there from now on); ``linked_seen``: linked identities written
    from (so the retention rules see them as in use)."""
    if languages:
        connection.execute(
            _UPDATE_PEOPLE,
            [{"person_id": pid, "lang": lang, "seen": now} for pid, lang in languages.items()])
    if reply_to:
        connection.execute(_REPLY_TO, [{"person_id": pid, "identity": identity}
                                       for pid, identity in reply_to.items()])
    seen = [{"person_id": identity, "seen": now} for identity in set(linked_seen)]
    if seen:
        connection.execute(_SEEN, seen)


def reply_address(person: Table = PEOPLE) -> tuple[Any, Any, Any]:
    """For a query on ``person``: the join to the identity messages to them go to, and that
    identity's channel and address (their own, unless they last wrote from a linked one)."""
    reply = PEOPLE.alias("reply_identity")
    join = (reply, reply.c.id == person.c.reply_identity_id)
    return (join, func.coalesce(reply.c.channel, person.c.channel).label("channel"),
            func.coalesce(reply.c.address, person.c.address).label("address"))


def erase_person(connection: Connection, person_id: int) -> None:
    """Delete a person; the database cascades to everything that refers to them."""
    connection.execute(delete(PEOPLE).where(PEOPLE.c.id == person_id))


def insert_conversation(connection: Connection, person_id: int, *, flow: str, state: str,
                        status: str, language: str, data: dict[str, Any]) -> int:
    now = utcnow()
    conversation_id: int = connection.execute(
        insert(CONVERSATIONS).values(person_id=person_id, flow=flow, state=state, status=status,
                                     language=language, data=data, created_at=now,
                                     updated_at=now)
        .returning(CONVERSATIONS.c.id)).scalar_one()
    return conversation_id


_UPDATE_CONVERSATIONS = (
    update(CONVERSATIONS).where(CONVERSATIONS.c.id == bindparam("conversation_id"))
    .values(flow=bindparam("flow"), state=bindparam("state"), status=bindparam("status"),
            language=bindparam("language"), data=bindparam("data"),
            updated_at=bindparam("now")))


def update_conversations(connection: Connection, changes: dict[int, dict[str, Any]],
                         now: datetime) -> None:
    """Save conversations; each change holds flow, state, status, language and data."""
    if changes:
        connection.execute(
            _UPDATE_CONVERSATIONS,
            [{"conversation_id": cid, "now": now, **values} for cid, values in changes.items()])


# -- cases -----------------------------------------------------------------------------------

_CASE_ROW = (CASES.c.id, CASES.c.kind, CASES.c.status, CASES.c.urgent,
             CASES.c.human_requested, CASES.c.urgency, CASES.c.urgency_set_by, CASES.c.signals,
             CASES.c.urgency_reasons)
_CASE_OF = (
    select(*_CASE_ROW)
    .where(CASES.c.conversation_id == bindparam("conversation_id"))
    .order_by(CASES.c.id.desc()).limit(1))


def _head(row: Any) -> CaseHead:
    case_id, kind, status, urgent, human, urgency, set_by, signals, reasons = row
    return CaseHead(case_id, kind, status, urgent, human, urgency=urgency, urgency_set_by=set_by,
                    signals=tuple(signals or ()),
                    urgency_reasons=tuple(reasons) if reasons is not None else None)


def case_of(connection: Connection, conversation_id: int) -> CaseHead | None:
    row = connection.execute(_CASE_OF, {"conversation_id": conversation_id}).one_or_none()
    return _head(row) if row is not None else None


def case_by_id(connection: Connection, case_id: int) -> CaseHead | None:
    row = connection.execute(select(*_CASE_ROW).where(CASES.c.id == case_id)).one_or_none()
    return _head(row) if row is not None else None


def insert_case(connection: Connection, person_id: int, conversation_id: int, kind: str) -> int:
    now = utcnow()
    case_id: int = connection.execute(
        insert(CASES).values(person_id=person_id, conversation_id=conversation_id, kind=kind,
                             status=CaseStatus.INTAKE, intake={}, urgent=False,
                             human_requested=False, created_at=now, updated_at=now)
        .returning(CASES.c.id)).scalar_one()
    return case_id


def abandon_case(connection: Connection, conversation_id: int) -> None:
    connection.execute(update(CASES).where(CASES.c.conversation_id == conversation_id,
                                           CASES.c.status == CaseStatus.INTAKE)
                       .values(status=CaseStatus.ABANDONED, updated_at=utcnow()))


# -- messages --------------------------------------------------------------------------------

def message_row(*, channel: str, address: str, direction: str, kind: str,
                body: dict[str, Any], person_id: int | None, conversation_id: int | None,
                now: datetime) -> dict[str, Any]:
    return {"channel": channel, "address": address, "direction": direction, "kind": kind,
            "body": body, "person_id": person_id, "conversation_id": conversation_id,
            "case_id": None, "created_at": now, "delivered_at": None, "failed_at": None,
            "attempts": 0, "last_error": None, "platform_refs": None}


_INSERT_MESSAGES = insert(MESSAGES).returning(MESSAGES.c.id, sort_by_parameter_order=True)


def insert_messages(connection: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert messages made with :func:`message_row`; their ids, in the same order."""
    if not rows:
        return []
    return list(connection.execute(_INSERT_MESSAGES, list(rows)).scalars())


def undelivered(session: Session) -> Sequence[Message]:
    return session.scalars(
        select(Message)
        .where(Message.direction == OUTBOUND, Message.delivered_at.is_(None),
               Message.failed_at.is_(None))
        .order_by(Message.id)
    ).all()


def undelivered_with(session: Session, message_id: int) -> Sequence[Message]:
    """The outbox of the chat message ``message_id`` is in, oldest first (none when that
    message is gone: its person was erased)."""
    chat = select(Message.channel, Message.address).where(Message.id == message_id).subquery()
    return session.scalars(
        select(Message)
        .join(chat, (Message.channel == chat.c.channel) & (Message.address == chat.c.address))
        .where(Message.direction == OUTBOUND, Message.delivered_at.is_(None),
               Message.failed_at.is_(None))
        .order_by(Message.id)
    ).all()


_DELETE_PERSONLESS = delete(MESSAGES).where(MESSAGES.c.id.in_(bindparam("ids", expanding=True)),
                                            MESSAGES.c.person_id.is_(None))
_MARK_DELIVERED = (update(MESSAGES).where(MESSAGES.c.id.in_(bindparam("ids", expanding=True)))
                   .values(delivered_at=bindparam("now")))


_SET_REFS = (update(MESSAGES).where(MESSAGES.c.id == bindparam("message_id"))
             .values(platform_refs=bindparam("refs")))


def mark_delivered(connection: Connection, message_ids: Sequence[int],
                   refs: dict[int, list[str]] | None = None) -> bool:
    """Mark replies delivered, with the platform's ids of what was posted (``refs``). A reply
    with no person (the notice after an erasure) is deleted instead, so nothing about an
    erased person stays behind; returns whether one was."""
    deleted = 0
    for start in range(0, len(message_ids), _KEYS_PER_QUERY):
        ids = {"ids": list(message_ids[start:start + _KEYS_PER_QUERY])}
        deleted += connection.execute(_DELETE_PERSONLESS, ids).rowcount or 0
        connection.execute(_MARK_DELIVERED, {**ids, "now": utcnow()})
    if refs:
        connection.execute(_SET_REFS, [{"message_id": message_id, "refs": list(posted)}
                                       for message_id, posted in refs.items()])
    return deleted > 0


@dataclass(frozen=True)
class ChatMessage:
    """A message in a chat as the platform knows it, for wiping the chat."""

    message_id: int
    ref: str
    at: datetime
    inbound: bool


def chat_messages(connection: Connection, channel: str, address: str, before: int,
                  ) -> list[ChatMessage]:
    """Every message in this chat (both ways) before message ``before`` that is still on
    the platform as far as the bot knows."""
    rows = connection.execute(
        select(MESSAGES.c.id, MESSAGES.c.platform_refs, MESSAGES.c.direction,
               MESSAGES.c.created_at, MESSAGES.c.delivered_at)
        .where(MESSAGES.c.channel == channel, MESSAGES.c.address == address,
               MESSAGES.c.id < before, MESSAGES.c.platform_refs.is_not(None))
        .order_by(MESSAGES.c.id))
    found = []
    for message_id, refs, direction, created, delivered in rows:
        moment = delivered or created
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        found += [ChatMessage(message_id, str(ref), moment, direction == INBOUND)
                  for ref in refs or ()]
    return found


def forget_refs(connection: Connection, message_ids: Sequence[int]) -> None:
    """These messages were removed from the chat on the platform (or tried to be)."""
    for start in range(0, len(message_ids), _KEYS_PER_QUERY):
        connection.execute(update(MESSAGES).where(
            MESSAGES.c.id.in_(list(message_ids[start:start + _KEYS_PER_QUERY])))
            .values(platform_refs=None))


def record_failure(connection: Connection, message_id: int, reason: str, *,
                   permanent: bool) -> bool:
    """Count a failed attempt; a permanent failure ends the message's delivery. One with no
    person (the notice after an erasure) is then deleted, like a delivered one; returns
    whether it was."""
    values: dict[str, Any] = {"attempts": MESSAGES.c.attempts + 1, "last_error": reason[:64]}
    deleted = 0
    if permanent:
        values["failed_at"] = utcnow()
        deleted = connection.execute(_DELETE_PERSONLESS, {"ids": [message_id]}).rowcount or 0
    connection.execute(update(MESSAGES).where(MESSAGES.c.id == message_id).values(**values))
    return deleted > 0
