"""Reading Matrix events: what a person sent (text, an edit, a reply without its quote, a
file, a sticker, a place, a poll) as an :class:`~bot.events.InboundEvent`, and the content of a
file the bot sends on."""

from __future__ import annotations

import json
from typing import Any

from nio import (
    RoomEncryptedMedia,
    RoomMessageEmote,
    RoomMessageFormatted,
    RoomMessageMedia,
    RoomMessageNotice,
    RoomMessageText,
    RoomMessageUnknown,
    StickerEvent,
    UnknownEvent,
)

from bot.events import (
    Attachment,
    AttachmentKind,
    InboundEvent,
    Location,
)

MEDIA_KINDS: dict[str, AttachmentKind] = {
    "m.image": "photo", "m.file": "document", "m.audio": "voice", "m.video": "video"}

# Everything a person can send in a chat gets an answer: text (also /me and notices), files,
# stickers, a location, and kinds this bot does not know (RoomMessageUnknown).
PERSON_MESSAGES = (RoomMessageText, RoomMessageEmote, RoomMessageNotice, RoomMessageMedia,
                    RoomEncryptedMedia, RoomMessageUnknown, StickerEvent, UnknownEvent)
POLLS = frozenset({"m.poll.start", "org.matrix.msc3381.poll.start"})
"""Of the event types nio does not know, the ones a person sends as a message."""



def file_content(attachment: Attachment, caption: str) -> dict[str, Any]:
    """A file received before, sent on by its content URI (with its key, when it came from
    an encrypted room); the text goes in ``body``."""
    msgtype = next((t for t, kind in MEDIA_KINDS.items() if kind == attachment.kind),
                   "m.file")
    content: dict[str, Any] = {"msgtype": msgtype, "body": caption}
    if attachment.mime_type:
        content["info"] = {"mimetype": attachment.mime_type}
    if attachment.ref.startswith("{"):
        stored = json.loads(attachment.ref)
        if stored.get("file"):
            content["file"] = stored["file"]
        else:
            content["url"] = stored.get("url")
    else:
        content["url"] = attachment.ref
    return content


def inbound_event(channel: str, event: Any) -> InboundEvent | None:
    if isinstance(event, RoomMessageFormatted):
        edited = _edited_text(event)
        return InboundEvent(channel, event.sender, event.event_id,
                            text=_without_quote(event) if edited is None else edited,
                            edited=edited is not None)
    if isinstance(event, RoomMessageUnknown) and event.msgtype.startswith("m.key.verification"):
        return None  # a client asking to verify the bot's device: not something to answer
    if isinstance(event, RoomMessageUnknown) and event.msgtype == "m.location":
        place = Location.from_geo_uri(str(event.content.get("geo_uri", "")))
        if place is not None:
            return InboundEvent(channel, event.sender, event.event_id, location=place)
    if isinstance(event, UnknownEvent) and event.type not in POLLS:
        return None  # a reaction, a poll vote, a call signal, ...: nothing to answer
    if isinstance(event, (RoomMessageUnknown, StickerEvent, UnknownEvent)):
        kind: AttachmentKind = "sticker" if isinstance(event, StickerEvent) else "other"
        return InboundEvent(channel, event.sender, event.event_id,
                            attachment=Attachment(kind, event.event_id))
    return InboundEvent(channel, event.sender, event.event_id, attachment=_attachment(event))


def _without_quote(event: RoomMessageFormatted) -> str:
    """The body of a reply without the quote of the message replied to, which older clients
    put in front ("> <@bot:server> Wat is uw functie?" and a blank line): only what the person
    wrote is their answer."""
    relation = event.source.get("content", {}).get("m.relates_to")
    body: str = event.body
    if not isinstance(relation, dict) or "m.in_reply_to" not in relation:
        return body
    lines = body.split("\n")
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    if lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def _edited_text(event: RoomMessageFormatted) -> str | None:
    """The new text when ``event`` edits an earlier message (its body is then "* " and the
    text, as a fallback for clients that do not know edits)."""
    new_content = event.source.get("content", {}).get("m.new_content")
    if not isinstance(new_content, dict):
        return None
    return str(new_content.get("body", ""))


def _attachment(event: Any) -> Attachment:
    content: dict[str, Any] = event.source.get("content", {})
    kind = MEDIA_KINDS.get(str(content.get("msgtype")), "other")
    if isinstance(event, RoomEncryptedMedia):
        # The key to decrypt the file goes with it, for whoever fetches it later.
        ref = json.dumps({"url": event.url, "file": content.get("file")})
    else:
        ref = str(event.url)
    info = content.get("info") or {}
    return Attachment(kind, ref, name=content.get("body"), mime_type=info.get("mimetype"))
