"""Platform-free messages between channel adapters and the engine."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypedDict

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

    def __post_init__(self) -> None:
        for name in ("name", "mime_type"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, visible_text(str(value)))


class PlaceFields(TypedDict):
    latitude: str
    longitude: str
    link: str


class ContactFields(TypedDict):
    contact_name: str
    phone: str


@dataclass(frozen=True, slots=True)
class Location:
    """A place on the map the person shared (a pin, or the start of a live location)."""

    latitude: float
    longitude: float

    @property
    def map_link(self) -> str:
        """A link any expert can open; the bot itself never calls it."""
        lat, lon = f"{self.latitude:.6f}", f"{self.longitude:.6f}"
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"

    def text_fields(self) -> PlaceFields:
        """``{latitude}``, ``{longitude}`` and ``{link}`` for a text that shows the place."""
        return {"latitude": f"{self.latitude:.6f}", "longitude": f"{self.longitude:.6f}",
                "link": self.map_link}

    def as_body(self) -> dict[str, float]:
        return {"latitude": self.latitude, "longitude": self.longitude}

    @classmethod
    def from_body(cls, body: object) -> Location | None:
        if not isinstance(body, dict):
            return None
        try:
            return cls(float(body["latitude"]), float(body["longitude"]))
        except (KeyError, TypeError, ValueError):
            return None

    @classmethod
    def from_geo_uri(cls, uri: str) -> Location | None:
        """``geo:52.37,4.89`` or ``geo:52.37,4.89;u=35`` (RFC 5870), as Matrix sends it."""
        scheme, _, rest = uri.strip().partition(":")
        if scheme.lower() != "geo":
            return None
        parts = rest.split(";", 1)[0].split(",")
        try:
            latitude, longitude = float(parts[0]), float(parts[1])
        except (IndexError, ValueError):
            return None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return None
        return cls(latitude, longitude)


_CONTROLS = (*range(0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_INVISIBLE: dict[int, int | None] = {code: None for code in _CONTROLS
                                     if code not in (0x09, 0x0A, 0x0D)}
_INVISIBLE.update({0x0D: 0x0A, 0x2028: 0x0A, 0x2029: 0x0A})


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def visible_text(text: str) -> str:
    """``text`` without control characters (a newline and a tab stay; other line breaks
    become newlines) and without the direction overrides that can make text read otherwise
    than it was written. They would be stored, and echoed to the person and the expert.
    A lone surrogate (invalid in UTF-8, so it could not be stored) becomes U+FFFD."""
    text = _LONE_SURROGATE.sub("\ufffd", text)
    return text.replace("\r\n", "\n").translate(_INVISIBLE)


@dataclass(frozen=True, slots=True)
class SharedContact:
    """A contact card (a name and a phone number). ``own``: the sender's own card, as a chat
    app sends it when someone shares their own number."""

    name: str
    phone: str
    own: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", visible_text(self.name).strip())
        object.__setattr__(self, "phone", visible_text(self.phone).strip())

    def text_fields(self) -> ContactFields:
        return {"contact_name": self.name or "-", "phone": self.phone}

    def as_body(self) -> dict[str, str]:
        return {"name": self.name, "phone": self.phone}

    @classmethod
    def from_body(cls, body: object) -> SharedContact | None:
        if not isinstance(body, dict) or not isinstance(body.get("phone"), str):
            return None
        return cls(str(body.get("name") or ""), body["phone"])


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """Something a person did: typed ``text``, pressed an option (``option`` holds the
    payload of the button), sent an ``attachment``, shared a ``location`` or a ``contact``
    card. ``text`` is kept as :func:`visible_text`, whichever channel it came from.
    ``edited``: ``text`` is the new version of a message sent earlier (the chat app's edit).
    ``forwarded``: ``text`` was passed on from another chat (often the threat itself), not
    typed as an answer."""

    channel: str
    sender: str
    message_id: str
    text: str | None = None
    option: str | None = None
    attachment: Attachment | None = None
    location: Location | None = None
    contact: SharedContact | None = None
    edited: bool = False
    forwarded: bool = False
    language_hint: str | None = None
    platform_ref: str | None = None
    """The platform's id of the message in the chat, for wiping it later (None: nothing in the
    chat to remove, such as a button press)."""
    """The language of the person's app, where the platform says it ("en", "nl-BE")."""
    burst: bool = False
    """Set by the engine, never by a channel: the person sends faster than the flood limit
    allows, or the same alarm again within seconds. The message is kept (with the report, or
    passed on to their expert joined with the others of its batch) but not taken as an
    answer, and only the danger advice is said, when ``advise``."""
    advise: bool = True

    def __post_init__(self) -> None:
        if self.text is not None:
            object.__setattr__(self, "text", visible_text(self.text))


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
    wipe: WipeOrder | None = None
    """Not a message but an order to remove the chat from the person's device (see
    :class:`WipeOrder`); ``text`` is then the neutral last message."""


@dataclass(frozen=True, slots=True)
class WipeOrder:
    """Remove every message in the chat before this one that the platform lets the bot
    remove, then say ``text`` (of the message) unless ``silent``; when some could not be
    removed, say ``left_text`` (with ``{count}``) instead, silent or not."""

    left_text: str
    silent: bool = False


@dataclass(frozen=True, slots=True)
class ChatItem:
    """One message of a chat to remove: the platform's id, when it was posted, and whether
    the person sent it."""

    ref: str
    at: datetime
    inbound: bool
