"""Reading Telegram updates: raw JSON from the Bot API into platform-free events.

Telegram (or a self-hosted Bot API server, or anyone who can reach the webhook) may send an
update python-telegram-bot cannot parse, or one whose fields have an unexpected type. Such an
update is *unreadable*: it is skipped (and confirmed, so it does not come back for ever), and
only its update id is logged, never its content. Everything else becomes an
:class:`InboundEvent`, or ``None`` when there is nothing to answer (a group chat, a live
location that moved).
"""

from __future__ import annotations

from typing import Any

from telegram import Bot, Message, Update
from telegram.constants import ChatType

from bot.events import Attachment, AttachmentKind, InboundEvent, Location, SharedContact

CHANNEL = "telegram"


class UnreadableUpdate(Exception):
    """An update that cannot be read. Its message is a reason, never the update's content."""


def update_id_of(raw: object) -> int | None:
    """The update's id, if it has a usable one."""
    if isinstance(raw, dict):
        value = raw.get("update_id")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def parse_update(raw: object, bot: Bot) -> Update:
    """``raw`` as python-telegram-bot's :class:`Update`, or :class:`UnreadableUpdate`."""
    if update_id_of(raw) is None:
        raise UnreadableUpdate("no update id")
    try:
        update = Update.de_json(raw, bot)  # type: ignore[arg-type]
    except Exception:  # its errors quote the data
        raise UnreadableUpdate("not an update python-telegram-bot can read") from None
    if update is None:
        raise UnreadableUpdate("empty update")
    return update


def _text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise UnreadableUpdate("text is not a string")
    return value


def button_event(update: Update) -> InboundEvent | None:
    """A pressed inline button; ``None`` if it carries no chat or data."""
    query = update.callback_query
    assert query is not None
    if query.message is None or not isinstance(query.data, str):
        return None
    # A button press has its own id; update_id is not unique (it restarts after a quiet week).
    return InboundEvent(CHANNEL, str(query.message.chat.id), f"cb:{query.id}",
                        option=query.data)


def message_event(update: Update) -> InboundEvent | None:
    """A new or edited message in a private chat."""
    try:
        return _message_event(update)
    except UnreadableUpdate:
        raise
    except (AttributeError, TypeError, ValueError):  # a field of an unexpected type
        raise UnreadableUpdate("a field has an unexpected type") from None


def _message_event(update: Update) -> InboundEvent | None:
    edit = update.edited_message
    if edit is not None:
        if edit.chat.type != ChatType.PRIVATE or (edit.text is None and edit.caption is None):
            return None  # not a changed text: e.g. a live location that moved
        # The text or caption changed; a file that came with it was received before.
        edited_at = int(edit.edit_date.timestamp()) if edit.edit_date else 0
        return InboundEvent(CHANNEL, str(edit.chat.id),
                            f"edit:{edit.chat.id}:{edit.message_id}:{edited_at}",
                            text=_text(edit.text) or _text(edit.caption), edited=True)
    message = update.message
    if message is None or message.chat.type != ChatType.PRIVATE:
        return None
    chat = str(message.chat.id)
    message_id = f"msg:{message.chat.id}:{message.message_id}"
    ref = str(message.message_id)  # for wiping the chat later
    forwarded = message.forward_origin is not None
    if message.location is not None:  # a pin, a venue, or the start of a live location
        place = Location(float(message.location.latitude), float(message.location.longitude))
        return InboundEvent(CHANNEL, chat, message_id, location=place, forwarded=forwarded,
                            platform_ref=ref)
    if message.contact is not None:
        return InboundEvent(CHANNEL, chat, message_id, contact=_contact(message),
                            forwarded=forwarded, platform_ref=ref)
    attachment = _attachment(message)
    text = _text(message.text) if attachment is None else _text(message.caption)
    hint = message.from_user.language_code if message.from_user is not None else None
    return InboundEvent(CHANNEL, chat, message_id, text=text, attachment=attachment,
                        forwarded=forwarded, language_hint=_text(hint), platform_ref=ref)


def _contact(message: Message) -> SharedContact:
    card = message.contact
    assert card is not None
    name = " ".join(str(part) for part in (card.first_name, card.last_name) if part)
    own = card.user_id is not None and message.from_user is not None \
        and card.user_id == message.from_user.id
    phone = str(card.phone_number)
    if own and phone.isdigit():  # the account's own number: international, without "+"
        phone = "+" + phone
    return SharedContact(name, phone, own=own)


_KINDS: tuple[tuple[str, AttachmentKind], ...] = (
    ("document", "document"), ("voice", "voice"), ("video", "video"),
    ("video_note", "video"), ("audio", "audio"), ("sticker", "sticker"), ("animation", "other"),
    ("poll", "other"),
)


def _attachment(message: Message) -> Attachment | None:
    """What the person sent besides text, or ``None`` for a plain text message."""
    if message.photo:
        largest = max(message.photo, key=lambda size: size.width * size.height)
        return Attachment("photo", str(largest.file_id), mime_type="image/jpeg")
    for field, kind in _KINDS:
        value: Any = getattr(message, field, None)
        if value:
            file_id = getattr(value, "file_id", None) or f"{field}:{message.message_id}"
            name = getattr(value, "file_name", None)
            mime = getattr(value, "mime_type", None)
            return Attachment(kind, str(file_id), name=str(name) if name else None,
                              mime_type=str(mime) if mime else None)
    if message.text is None:
        return Attachment("other", f"message:{message.message_id}")
    return None
