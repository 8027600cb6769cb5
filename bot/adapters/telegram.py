"""The Telegram channel, on python-telegram-bot: long polling by default, or a webhook.

Polling confirms updates to Telegram (by asking for the next offset) only after the engine has
stored every update of the previous batch, so a crash never loses a message; python-telegram-
bot's own updater would confirm them as soon as they are fetched. Replies are delivered
independently, so a slow chat does not hold up the others.

Options become inline buttons; every button press is answered, and the keyboard of an answered
question is removed (and the choice shown under it) so old buttons are not pressed by mistake.
Photos, documents, voice and video messages become attachments the engine keeps as evidence.
A person is their private chat; groups are not served.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeDefault,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ChatType, MessageLimit
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channel import DeliveryError, InboundHandler, PermanentDeliveryError
from bot.events import (
    Attachment,
    AttachmentKind,
    InboundEvent,
    Location,
    OutboundMessage,
    SharedContact,
)

log = logging.getLogger(__name__)
# Opt in to python-telegram-bot's coming behaviour (durations as timedelta); handled below.
os.environ.setdefault("PTB_TIMEDELTA", "1")

MAX_TRACKED_KEYBOARDS = 10_000
UPDATE_TYPES = ["message", "edited_message", "callback_query"]
"""What the bot asks Telegram for; an edit is not lost (it is answered, and passed on)."""
_GONE = ("chat not found", "user is deactivated", "bot was blocked", "bot was kicked")


@dataclass(frozen=True)
class Webhook:
    url: str
    listen: str = "127.0.0.1"
    port: int = 8443
    secret: str | None = None


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cut a long text into pieces Telegram accepts, at paragraph, line or word ends."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n\n", 0, limit), text.rfind("\n", 0, limit),
                  text.rfind(" ", 0, limit))
        if cut <= limit // 2:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    pieces.append(text)
    return pieces


class TelegramChannel:
    name = "telegram"

    def __init__(self, token: str, *, base_url: str | None = None,
                 base_file_url: str | None = None, poll_timeout: int = 30,
                 webhook: Webhook | None = None,
                 menus: Mapping[str, Sequence[tuple[str, str]]] | None = None) -> None:
        builder = Application.builder().token(token)
        if base_url:
            builder = builder.base_url(base_url).base_file_url(
                base_file_url or base_url.replace("/bot", "/file/bot"))
        self._app = builder.build()
        self._app.add_handler(TypeHandler(Update, self._on_update))
        self._poll_timeout = poll_timeout
        self._webhook = webhook
        self._menus = menus or {}
        self._handler: InboundHandler | None = None
        self._keyboards: OrderedDict[int, int] = OrderedDict()  # chat -> message with buttons
        self._progress: dict[int, int] = {}  # outbox id -> pieces already sent
        self._tasks: set[asyncio.Task[None]] = set()
        self._poller: asyncio.Task[None] | None = None
        self._next_offset: int | None = None
        self._polling_ok = False
        self._closed = asyncio.Event()

    # -- the Channel protocol --------------------------------------------------------------

    async def start(self, handler: InboundHandler) -> None:
        self._handler = handler
        await self._app.initialize()
        await self._register_commands()
        if self._webhook is not None:
            await self._app.start()
            updater = self._app.updater
            assert updater is not None
            await updater.start_webhook(
                listen=self._webhook.listen, port=self._webhook.port,
                webhook_url=self._webhook.url, secret_token=self._webhook.secret,
                url_path="telegram", allowed_updates=UPDATE_TYPES)
        else:
            await self._app.bot.delete_webhook()
            self._poller = asyncio.create_task(self._poll(), name="telegram-poll")
        log.info("telegram.started mode=%s", "webhook" if self._webhook else "polling")

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def stop(self) -> None:
        updater = self._app.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)
        if self._next_offset is not None:  # confirm what was stored, as a courtesy
            with contextlib.suppress(TelegramError):
                await self._app.bot.get_updates(offset=self._next_offset, timeout=0)
        if self._app.running:
            await self._app.stop()
        await self._app.shutdown()
        self._closed.set()

    def healthy(self) -> bool:
        if self._webhook is not None:
            updater = self._app.updater
            return updater is not None and updater.running
        return self._polling_ok

    async def send(self, message: OutboundMessage) -> None:
        chat_id = int(message.recipient)
        await self._clear_keyboard(chat_id)
        if message.attachment is not None:
            await self._send_file(chat_id, message)
            return
        pieces = split_text(message.text)
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(o.label, callback_data=o.payload)] for o in message.options]
        ) if message.options else None
        start = self._progress.get(message.id, 0)
        for index in range(start, len(pieces)):
            last = index == len(pieces) - 1
            sent = await self._call(self._app.bot.send_message(
                chat_id, pieces[index], reply_markup=markup if last else None))
            self._progress[message.id] = index + 1
            if last and markup is not None and not message.sticky:
                self._remember_keyboard(chat_id, sent.message_id)
        self._progress.pop(message.id, None)

    async def _send_file(self, chat_id: int, message: OutboundMessage) -> None:
        """Relay a file this bot received before, by its Telegram file id, with the text as
        its caption. A file id Telegram refuses (a placeholder for a kind without one) is
        replaced by the text alone, so the message is not lost."""
        attachment = message.attachment
        assert attachment is not None
        bot = self._app.bot
        caption = message.text[:MessageLimit.CAPTION_LENGTH]
        senders: dict[str, Callable[..., Coroutine[Any, Any, Message]]] = {
            "photo": bot.send_photo, "voice": bot.send_voice, "video": bot.send_video,
            "audio": bot.send_audio}
        send = senders.get(attachment.kind, bot.send_document)
        file: str | InputFile = attachment.ref
        if attachment.data is not None:  # from another channel: uploaded as it is
            name = attachment.name or f"{attachment.kind}{_SUFFIX.get(attachment.kind, '')}"
            file = InputFile(attachment.data, filename=name)
            if attachment.kind != "photo":
                send = bot.send_document  # keeps any format; voice and video need their own
        try:
            await self._call(send(chat_id, file, caption=caption))
        except PermanentDeliveryError:
            raise
        except DeliveryError as exc:
            if exc.reason != "bad_request":
                raise
            log.info("telegram.file_refused kind=%s", attachment.kind)
            await self._call(self._app.bot.send_message(chat_id, caption))

    async def fetch(self, attachment: Attachment) -> bytes:
        """The bytes of a file a person sent here (the Bot API hands out files up to 20 MB)."""
        try:
            file = await self._app.bot.get_file(attachment.ref)
            return bytes(await file.download_as_bytearray())
        except BadRequest as exc:
            raise PermanentDeliveryError("file_unavailable") from exc
        except (NetworkError, TimeoutError) as exc:
            raise DeliveryError(type(exc).__name__) from exc

    # -- inbound -----------------------------------------------------------------------------

    async def _poll(self) -> None:
        backoff = 1.0
        while True:
            try:
                updates = await self._app.bot.get_updates(
                    offset=self._next_offset, timeout=self._poll_timeout,
                    allowed_updates=UPDATE_TYPES)
            except TelegramError as exc:
                self._polling_ok = False
                log.warning("telegram.polling_error error=%s", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            self._polling_ok, backoff = True, 1.0
            stored: list[asyncio.Event] = []
            for update in updates:
                event = await self._to_event(update)
                if event is None or self._handler is None:
                    continue
                done = asyncio.Event()
                stored.append(done)
                self._spawn(self._handler(event, on_committed=done.set))
            # Asking for the next offset confirms these updates: only once they are stored.
            await asyncio.gather(*(done.wait() for done in stored))
            if updates:
                self._next_offset = updates[-1].update_id + 1

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_update(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        event = await self._to_event(update)
        if event is None or self._handler is None:
            return
        # Webhook mode: handled in a task; tasks start in arrival order, and the engine takes
        # events in the order they reach it.
        self._spawn(self._handler(event))

    async def _to_event(self, update: Update) -> InboundEvent | None:
        # Ids that Telegram never reuses: a button press has its own id, a message is unique
        # within its chat. (update_id is not: it restarts at random after a quiet week.)
        query = update.callback_query
        if query is not None:
            await self._answer_button(query)
            if query.message is None or query.data is None:
                return None
            return InboundEvent(self.name, str(query.message.chat.id), f"cb:{query.id}",
                                option=query.data)
        edit = update.edited_message
        if edit is not None:
            if edit.chat.type != ChatType.PRIVATE or (edit.text is None and edit.caption is None):
                return None  # not a changed text: e.g. a live location that moved
            # The text or caption changed; a file that came with it was received before.
            edited_at = int(edit.edit_date.timestamp()) if edit.edit_date else 0
            return InboundEvent(self.name, str(edit.chat.id),
                                f"edit:{edit.chat.id}:{edit.message_id}:{edited_at}",
                                text=edit.text or edit.caption, edited=True)
        message = update.message
        if message is None or message.chat.type != ChatType.PRIVATE:
            return None
        message_id = f"msg:{message.chat.id}:{message.message_id}"
        if message.location is not None:  # a pin, a venue, or the start of a live location
            place = Location(message.location.latitude, message.location.longitude)
            return InboundEvent(self.name, str(message.chat.id), message_id, location=place,
                                forwarded=message.forward_origin is not None)
        if message.contact is not None:
            card = message.contact
            name = " ".join(part for part in (card.first_name, card.last_name) if part)
            own = card.user_id is not None and message.from_user is not None \
                and card.user_id == message.from_user.id
            phone = card.phone_number
            if own and phone.isdigit():  # the account's own number: international, no "+"
                phone = "+" + phone
            return InboundEvent(self.name, str(message.chat.id), message_id,
                                contact=SharedContact(name, phone, own=own),
                                forwarded=message.forward_origin is not None)
        attachment = _attachment(message)
        text = message.text if attachment is None else message.caption
        return InboundEvent(self.name, str(message.chat.id), message_id, text=text,
                            attachment=attachment,
                            forwarded=message.forward_origin is not None)

    async def _answer_button(self, query: CallbackQuery) -> None:
        """Answer the press, remove the keyboard and show what was chosen under the question."""
        try:
            await query.answer()
        except TelegramError as exc:
            log.info("telegram.answer_failed error=%s", type(exc).__name__)
        message = query.message
        if not isinstance(message, Message) or message.reply_markup is None:
            return
        label = next((button.text for row in message.reply_markup.inline_keyboard
                      for button in row if button.callback_data == query.data), None)
        try:
            if label is not None and message.text:
                await message.edit_text(f"{message.text}\n\n✓ {label}", reply_markup=None)
            else:
                await message.edit_reply_markup(reply_markup=None)
        except TelegramError as exc:
            log.info("telegram.edit_failed error=%s", type(exc).__name__)
        if self._keyboards.get(message.chat.id) == message.message_id:
            del self._keyboards[message.chat.id]

    # -- helpers -----------------------------------------------------------------------------

    async def _register_commands(self) -> None:
        for language, commands in self._menus.items():
            listed = [BotCommand(command, description) for command, description in commands]
            try:
                if language == "en":
                    await self._app.bot.set_my_commands(listed, scope=BotCommandScopeDefault())
                else:
                    await self._app.bot.set_my_commands(listed, language_code=language)
            except TelegramError as exc:
                log.warning("telegram.commands_not_set language=%s error=%s", language,
                            type(exc).__name__)

    def _remember_keyboard(self, chat_id: int, message_id: int) -> None:
        self._keyboards[chat_id] = message_id
        self._keyboards.move_to_end(chat_id)
        while len(self._keyboards) > MAX_TRACKED_KEYBOARDS:
            self._keyboards.popitem(last=False)

    async def _clear_keyboard(self, chat_id: int) -> None:
        """The person typed instead of pressing: take the buttons off the earlier question."""
        message_id = self._keyboards.pop(chat_id, None)
        if message_id is None:
            return
        try:
            await self._app.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
        except TelegramError as exc:
            log.info("telegram.clear_keyboard_failed error=%s", type(exc).__name__)

    @staticmethod
    async def _call(request: object) -> Message:
        try:
            result = await request  # type: ignore[misc]
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise DeliveryError("rate_limited", retry_after=seconds) from exc
        except Forbidden as exc:
            raise PermanentDeliveryError("forbidden") from exc
        except BadRequest as exc:
            if any(reason in exc.message.lower() for reason in _GONE):
                raise PermanentDeliveryError("chat_gone") from exc
            raise DeliveryError("bad_request") from exc
        except NetworkError as exc:
            raise DeliveryError(type(exc).__name__) from exc
        assert isinstance(result, Message)
        return result



_SUFFIX = {"photo": ".jpg", "voice": ".ogg", "video": ".mp4", "audio": ".mp3"}
_KINDS: tuple[tuple[str, AttachmentKind], ...] = (
    ("photo", "photo"), ("document", "document"), ("voice", "voice"), ("video", "video"),
    ("video_note", "video"), ("audio", "audio"), ("sticker", "sticker"), ("animation", "other"),
    ("poll", "other"),
)


def _attachment(message: Message) -> Attachment | None:
    """What the person sent besides text, or ``None`` for a plain text message."""
    if message.photo:
        largest = max(message.photo, key=lambda size: size.width * size.height)
        return Attachment("photo", largest.file_id, mime_type="image/jpeg")
    for field, kind in _KINDS[1:]:
        value = getattr(message, field, None)
        if value:
            file_id = getattr(value, "file_id", None) or f"{field}:{message.message_id}"
            return Attachment(kind, file_id, name=getattr(value, "file_name", None),
                              mime_type=getattr(value, "mime_type", None))
    if message.text is None:
        return Attachment("other", f"message:{message.message_id}")
    return None
