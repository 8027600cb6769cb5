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
import warnings
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeDefault,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
)
from telegram.constants import MessageLimit
from telegram.error import (
    BadRequest,
    InvalidToken,
    NetworkError,
    TelegramError,
)
from telegram.ext import Application
from telegram.warnings import PTBUserWarning

from bot.adapters.telegram_errors import mapped_errors
from bot.adapters.telegram_updates import (
    UnreadableUpdate,
    button_event,
    message_event,
    parse_update,
    update_id_of,
)
from bot.adapters.telegram_webhook import Webhook, WebhookServer
from bot.channel import (
    ChannelStartError,
    DeliveryError,
    InboundHandler,
    PermanentDeliveryError,
)
from bot.channel import split_text as split_long_text
from bot.events import Attachment, ChatItem, InboundEvent, OutboundMessage

log = logging.getLogger(__name__)
# Opt in to python-telegram-bot's coming behaviour (durations as timedelta); handled below.
os.environ.setdefault("PTB_TIMEDELTA", "1")
# getUpdates is called through do_api_request, so that each update is parsed on its own.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)

__all__ = ["TelegramChannel", "Webhook", "split_text"]

MAX_TRACKED_KEYBOARDS = 10_000
UPDATE_TYPES = ["message", "edited_message", "callback_query"]
"""What the bot asks Telegram for; an edit is not lost (it is answered, and passed on)."""
MAX_POLL_BACKOFF_SECONDS = 30.0
DELETE_WINDOW = timedelta(hours=48) - timedelta(minutes=5)
"""Telegram deletes messages up to 48 hours old; a few minutes' margin for the clocks."""
DELETE_BATCH = 100
"""The most messages deleteMessages takes at once."""


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cut a long text into pieces Telegram accepts (see :func:`bot.channel.split_text`)."""
    return split_long_text(text, limit)


class TelegramChannel:
    name = "telegram"

    def __init__(self, token: str, *, base_url: str | None = None,
                 base_file_url: str | None = None, poll_timeout: int = 30,
                 webhook: Webhook | None = None,
                 menus: Mapping[str, Sequence[tuple[str, str]]] | None = None,
                 on_unreadable: Callable[[], None] | None = None) -> None:
        builder = Application.builder().token(token).updater(None)
        if base_url:
            builder = builder.base_url(base_url).base_file_url(
                base_file_url or base_url.replace("/bot", "/file/bot"))
        self._app = builder.build()
        self._poll_timeout = poll_timeout
        self._webhook = webhook
        self._webhook_server = WebhookServer(webhook, self._receive) if webhook else None
        self._menus = menus or {}
        self._on_unreadable = on_unreadable or (lambda: None)
        self._handler: InboundHandler | None = None
        self._keyboards: OrderedDict[int, int] = OrderedDict()  # chat -> message with buttons
        self._progress: dict[int, list[str]] = {}  # outbox id -> pieces already sent
        self._tasks: set[asyncio.Task[None]] = set()
        self._poller: asyncio.Task[None] | None = None
        self._next_offset: int | None = None
        self._polling_ok = False
        self._closed = asyncio.Event()

    # -- the Channel protocol --------------------------------------------------------------

    async def start(self, handler: InboundHandler) -> None:
        self._handler = handler
        try:
            await self._app.initialize()
        except InvalidToken:
            raise ChannelStartError("Telegram refused the bot token") from None
        await self._register_commands()
        if self._webhook is not None:
            assert self._webhook_server is not None
            await self._webhook_server.start()
            await self._app.bot.set_webhook(self._webhook.url, secret_token=self._webhook.secret,
                                            allowed_updates=UPDATE_TYPES)
        else:
            await self._app.bot.delete_webhook()
            self._poller = asyncio.create_task(self._poll(), name="telegram-poll")
        log.info("telegram.started mode=%s", "webhook" if self._webhook else "polling")

    async def start_sending(self) -> None:
        """Start for sending only (a replica that takes no updates: others run the webhook)."""
        try:
            await self._app.initialize()
        except InvalidToken:
            raise ChannelStartError("Telegram refused the bot token") from None
        log.info("telegram.started mode=sending")

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def stop(self) -> None:
        if self._webhook_server is not None:
            await self._webhook_server.stop()
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)
        if self._next_offset is not None:  # confirm what was stored, as a courtesy
            with contextlib.suppress(TelegramError):  # raw: parsing could log the data
                await self._app.bot.do_api_request(
                    "getUpdates", api_kwargs={"offset": self._next_offset, "timeout": 0})
        await self._app.shutdown()
        self._closed.set()

    def healthy(self) -> bool:
        if self._webhook_server is not None:
            return self._webhook_server.running
        return self._polling_ok and self._poller is not None and not self._poller.done()

    async def send(self, message: OutboundMessage) -> list[str]:
        """Deliver ``message``; returns the ids of the Telegram messages it became (a long
        text is several), for wiping the chat later."""
        chat_id = int(message.recipient)
        await self._clear_keyboard(chat_id)
        if message.attachment is not None:
            return [await self._send_file(chat_id, message)]
        pieces = split_text(message.text)
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(o.label, callback_data=o.payload)] for o in message.options]
        ) if message.options else None
        posted = self._progress.setdefault(message.id, [])
        for index in range(len(posted), len(pieces)):
            last = index == len(pieces) - 1
            sent = await self._call(self._app.bot.send_message(
                chat_id, pieces[index], reply_markup=markup if last else None))
            posted.append(str(sent.message_id))
            if last and markup is not None and not message.sticky:
                self._remember_keyboard(chat_id, sent.message_id)
        return self._progress.pop(message.id, posted)

    async def _send_file(self, chat_id: int, message: OutboundMessage) -> str:
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
            sent = await self._call(send(chat_id, file, caption=caption))
        except PermanentDeliveryError:
            raise
        except DeliveryError as exc:
            if exc.reason != "bad_request":
                raise
            log.info("telegram.file_refused kind=%s", attachment.kind)
            sent = await self._call(self._app.bot.send_message(chat_id, caption))
        return str(sent.message_id)

    async def wipe(self, recipient: str, items: Sequence[ChatItem]) -> int:
        """Delete the messages of a private chat, both ways (a bot may delete the person's
        messages there too), in hundreds at a time; Telegram keeps anything older than 48
        hours. Returns how many are left."""
        chat_id = int(recipient)
        self._keyboards.pop(chat_id, None)
        now = datetime.now(UTC)
        refs = {item.ref: item.at for item in items if item.ref.isdigit()}
        removable = sorted(int(ref) for ref, at in refs.items() if now - at < DELETE_WINDOW)
        left = len(refs) - len(removable)
        for start in range(0, len(removable), DELETE_BATCH):
            chunk = removable[start:start + DELETE_BATCH]
            try:
                with mapped_errors(keep_bad_request=True):
                    await self._app.bot.delete_messages(chat_id, chunk)
            except BadRequest:  # one of them cannot go: find out which
                left += await self._delete_one_by_one(chat_id, chunk)
        return left

    async def _delete_one_by_one(self, chat_id: int, message_ids: Sequence[int]) -> int:
        left = 0
        for message_id in message_ids:
            try:
                with mapped_errors(keep_bad_request=True):
                    await self._app.bot.delete_message(chat_id, message_id)
            except BadRequest as exc:
                if "not found" not in exc.message.lower():  # not found: gone already
                    left += 1
        return left

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
        """Long polling. An update is confirmed (by asking for a later offset) only once it is
        stored; one that could not be stored is fetched again after a pause. An update that
        cannot be read is skipped and confirmed, so it never makes the bot deaf."""
        backoff = 1.0
        while True:
            try:
                raw = await self._app.bot.do_api_request(
                    "getUpdates", api_kwargs={"offset": self._next_offset,
                                              "timeout": self._poll_timeout,
                                              "allowed_updates": UPDATE_TYPES},
                    read_timeout=self._poll_timeout + 10)
                if not isinstance(raw, list):
                    raise UnreadableUpdate("getUpdates did not answer a list")
            except (TelegramError, UnreadableUpdate) as exc:
                self._polling_ok = False
                log.warning("telegram.polling_error error=%s", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_POLL_BACKOFF_SECONDS)
                continue
            self._polling_ok = True
            if await self._handle_batch(raw):
                backoff = 1.0
            else:  # the database failed: the rest comes again after a pause
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_POLL_BACKOFF_SECONDS)

    async def _handle_batch(self, raw: list[object]) -> bool:
        """Hand each update in; move the offset past those stored (up to the first that was
        not). Returns whether all were stored."""
        outcomes: list[tuple[int, asyncio.Future[bool] | None]] = []
        for item in raw:
            update_id = update_id_of(item)
            if update_id is None:
                self._unreadable(None, "no update id")
                continue
            outcomes.append((update_id, await self._hand_in(item)))
        all_stored = True
        for update_id, stored in outcomes:
            ok = True if stored is None else await stored
            if not ok and all_stored:
                all_stored = False
                self._next_offset = update_id  # fetched again from here
            elif all_stored:
                self._next_offset = update_id + 1
        return all_stored

    async def _hand_in(self, raw: object) -> asyncio.Future[bool] | None:
        """Read one raw update and hand it to the engine; the future says whether it was
        stored (``None``: nothing to store). Updates are read one after the other and reach
        the engine in that order; their handling goes on in tasks."""
        try:
            event = await self._to_event(raw)
        except UnreadableUpdate as exc:
            self._unreadable(update_id_of(raw), str(exc))
            return None
        if event is None or self._handler is None:
            return None
        handler = self._handler
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def committed(ok: bool) -> None:
            if not stored.done():
                stored.set_result(ok)

        async def work() -> None:
            try:
                await handler(event, on_committed=committed)
            finally:
                committed(False)  # only if the handler failed before it said

        self._spawn(work())
        return stored

    async def _receive(self, raw: object) -> bool:
        """One update from the webhook: whether it is stored (or needs no storing)."""
        stored = await self._hand_in(raw)
        return True if stored is None else await stored

    def _unreadable(self, update_id: int | None, reason: str) -> None:
        log.warning("telegram.update_unreadable update_id=%s reason=%s", update_id, reason)
        self._on_unreadable()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _to_event(self, raw: object) -> InboundEvent | None:
        update = parse_update(raw, self._app.bot)
        if update.callback_query is not None:
            await self._answer_button(update.callback_query)
            return button_event(update)
        return message_event(update)

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
        with mapped_errors():
            result = await request  # type: ignore[misc]
        assert isinstance(result, Message)
        return result


_SUFFIX = {"photo": ".jpg", "voice": ".ogg", "video": ".mp4", "audio": ".mp3"}
