"""An inbound event as a turn job carries it: sealed (encrypted with the bot's keys, as a
message body is stored), so the queue's tables hold no word a person wrote in the clear."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bot.events import Attachment, InboundEvent, Location, SharedContact
from storage.crypto import seal, unseal

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


def sealed(event: InboundEvent) -> str:
    return seal(event_body(event))


def unsealed(token: str) -> InboundEvent:
    body: dict[str, Any] = unseal(token)
    return event_from(body)
