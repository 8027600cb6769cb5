"""Inbound events waiting in the database for a worker: stored encrypted, found by id."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from bot.events import Attachment, InboundEvent, Location, SharedContact
from storage.models import QueuedInbound, utcnow

_PARTS = {"attachment": Attachment, "location": Location, "contact": SharedContact}


def event_body(event: InboundEvent) -> dict[str, Any]:
    """``event`` as JSON (a file's bytes are never part of an inbound event)."""
    body = asdict(event)
    attachment = body.get("attachment")
    if attachment is not None:
        attachment.pop("data", None)
    return {key: value for key, value in body.items() if value is not None}


def event_from(body: dict[str, Any]) -> InboundEvent:
    fields = dict(body)
    for name, kind in _PARTS.items():
        if fields.get(name) is not None:
            fields[name] = kind(**fields[name])
    return InboundEvent(**fields)


def put(connection: Connection, event: InboundEvent) -> int:
    """Keep ``event`` until a worker handled it; returns its id."""
    row_id: int = connection.execute(insert(QueuedInbound).values(
        channel=event.channel, event=event_body(event), queued_at=utcnow(),
    ).returning(QueuedInbound.id)).scalar_one()
    return row_id


def take(connection: Connection, row_id: int) -> InboundEvent | None:
    """The event kept as ``row_id``; ``None`` when it was handled already."""
    body = connection.execute(select(QueuedInbound.event).where(
        QueuedInbound.id == row_id)).scalar_one_or_none()
    return None if body is None else event_from(body)


def done(connection: Connection, row_id: int) -> None:
    connection.execute(delete(QueuedInbound).where(QueuedInbound.id == row_id))
