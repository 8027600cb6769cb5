"""Platform-free messages between channel adapters and the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

AttachmentKind = Literal["photo", "document", "voice", "video", "audio", "sticker", "other",
                         "unreadable"]
"""``unreadable``: a message the channel could not decrypt (end-to-end encryption)."""
EVIDENCE_KINDS: frozenset[str] = frozenset({"photo", "document", "voice", "video", "audio"})


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the person sent. ``ref`` is the platform's handle to fetch it later.

    ``channel``: the channel ``ref`` belongs to, when the file goes out on another one; the
    engine then fetches the file from there and hands the bytes to the sending channel as
    ``data`` (never stored)."""

    kind: AttachmentKind
    ref: str
    name: str | None = None
    mime_type: str | None = None
    channel: str | None = None
    data: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """Something a person did: typed ``text``, pressed an option (``option`` holds the
    payload of the button), or sent an ``attachment``."""

    channel: str
    sender: str
    message_id: str
    text: str | None = None
    option: str | None = None
    attachment: Attachment | None = None


@dataclass(frozen=True, slots=True)
class OutboundOption:
    """A choice offered with a message. Channels with buttons send ``payload`` back as
    :attr:`InboundEvent.option`; others show a numbered list and the person types."""

    payload: str
    label: str


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A reply to deliver. ``id`` is the outbox row, unique and increasing per recipient.

    With an ``attachment`` (a file the same channel received before, relayed between a person
    and an expert) the text goes with it as its caption. ``sticky`` options stay usable when
    later messages arrive (an expert's Accept button), where a channel would otherwise clear
    old buttons."""

    id: int
    channel: str
    recipient: str
    text: str
    options: tuple[OutboundOption, ...] = field(default=())
    language: str = "nl"
    attachment: Attachment | None = None
    sticky: bool = False
