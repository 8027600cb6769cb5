"""Delivering replies: on their channel, in order per recipient, retried with backoff until
sent or refused for good, with a file from another channel fetched from there and a wipe of the
chat done by the channel. What happened is kept in a report the next batch writes (delivered,
failed, the platform's ids, what was wiped)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from bot.channel import (
    Channel,
    ChatWiper,
    DeliveryError,
    FileSource,
    PermanentDeliveryError,
)
from bot.conversation import ConversationLogic
from bot.delivery_report import DeliveryReport, Posted
from bot.events import ChatItem, InboundEvent, OutboundMessage
from bot.metrics import Metrics
from storage.repository import ChatMessage

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 0.5
ANSWERED_RETRY_SECONDS = 2.0
MAX_REMEMBERED_FAILURES = 10_000


class Delivery:
    """The engine's deliveries. ``wake_writer``: asks the writer to record the report soon;
    ``chat_messages(recipient, before)``: the stored messages of a chat, for a wipe."""

    def __init__(self, logic: ConversationLogic, metrics: Metrics, *, max_backoff: float,
                 wake_writer: Callable[[], None],
                 chat_messages: Callable[[tuple[str, str], int], Awaitable[list[ChatMessage]]],
                 ) -> None:
        self._logic, self._metrics, self._max_backoff = logic, metrics, max_backoff
        self._wake_writer, self._chat_messages = wake_writer, chat_messages
        self.channels: dict[str, Channel] = {}
        self.report = DeliveryReport()
        self.tasks: set[asyncio.Task[None]] = set()
        self._recipient_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._recipient_users: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._unstored_refs: OrderedDict[tuple[str, str], list[ChatItem]] = OrderedDict()

    def in_background(self, messages: list[OutboundMessage]) -> None:
        if not messages:
            return
        task = asyncio.create_task(self.deliver(messages))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drain(self) -> None:
        """Wait until every message handed to delivery so far was sent or given up."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def cancel(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def take_report(self) -> DeliveryReport:
        """The report so far, for a batch to write; a new one is begun."""
        report, self.report = self.report, DeliveryReport()
        return report

    def give_back(self, report: DeliveryReport) -> None:
        """A report the batch could not write: kept for the next one."""
        self.report.delivered.extend(report.delivered)
        self.report.failed.extend(report.failed)
        self.report.posted.update(report.posted)
        self.report.wiped.extend(report.wiped)

    async def deliver(self, messages: Iterable[OutboundMessage]) -> None:
        by_recipient: dict[tuple[str, str], list[OutboundMessage]] = {}
        for message in messages:
            by_recipient.setdefault((message.channel, message.recipient), []).append(message)
        await asyncio.gather(*(self._deliver_to(key, batch)
                               for key, batch in by_recipient.items()))

    async def _deliver_to(self, key: tuple[str, str], messages: list[OutboundMessage]) -> None:
        lock = self._recipient_locks.setdefault(key, asyncio.Lock())
        self._recipient_users[key] += 1
        try:
            async with lock:
                for message in messages:
                    await self._send_one(message)
        finally:
            self._recipient_users[key] -= 1
            if not self._recipient_users[key]:
                del self._recipient_users[key]
                del self._recipient_locks[key]

    async def _send_one(self, message: OutboundMessage) -> None:
        channel = self.channels.get(message.channel)
        if channel is None:
            log.warning("delivery.no_channel channel=%s message=%s", message.channel, message.id)
            return
        attempt = 0
        while True:
            try:
                message = await self._with_file(message)
                refs: Sequence[str] | None = None
                if message.wipe is not None:
                    await self._wipe(channel, message)
                else:
                    refs = await channel.send(message)
            except PermanentDeliveryError as exc:
                log.warning("delivery.failed message=%s reason=%s", message.id, exc.reason)
                self._metrics.delivery_failures.labels(message.channel, "true").inc()
                self.report.failed.append((message.id, exc.reason, True))
                self._wake_writer()
                return
            except Exception as exc:
                attempt += 1
                reason = exc.reason if isinstance(exc, DeliveryError) else type(exc).__name__
                retry_after = exc.retry_after if isinstance(exc, DeliveryError) else None
                delay = retry_after or min(self._max_backoff, FIRST_RETRY_SECONDS * 2 ** attempt)
                if retry_after is None and isinstance(exc, DeliveryError) and exc.answered:
                    # The platform is up and answered with an error (a 502 from its proxy):
                    # a person waiting for the next question should not wait a minute.
                    delay = min(delay, ANSWERED_RETRY_SECONDS)
                log.warning("delivery.retry message=%s attempt=%d reason=%s delay=%.1f",
                            message.id, attempt, reason, delay)
                self._metrics.delivery_failures.labels(message.channel, "false").inc()
                self.report.failed.append((message.id, reason, False))
                self._wake_writer()
                await asyncio.sleep(delay)
            else:
                self._metrics.messages.labels(message.channel, "out").inc()
                self.report.delivered.append(message.id)
                if refs:
                    self.report.posted[message.id] = Posted(
                        message.channel, message.recipient, list(refs), datetime.now(UTC))
                self._wake_writer()
                return

    async def _wipe(self, channel: Channel, message: OutboundMessage) -> None:
        """Remove the chat before ``message`` from the person's device, then say its neutral
        last words (unless silent): how many messages are left, if any."""
        order = message.wipe
        assert order is not None
        key = (message.channel, message.recipient)
        # Delivered since the last batch, so not in the database yet; taken before reading
        # the database, as the report may be written meanwhile (then both have them).
        recent = [(message_id, posted) for message_id, posted in self.report.posted.items()
                  if (posted.channel, posted.recipient) == key and message_id < message.id]
        stored = await self._chat_messages(key, message.id)
        items = [ChatItem(m.ref, m.at, m.inbound) for m in stored]
        items += [ChatItem(ref, posted.at, False) for _, posted in recent for ref in posted.refs]
        items += self._unstored_refs.pop(key, [])
        left = await channel.wipe(message.recipient, items) \
            if isinstance(channel, ChatWiper) else 0
        self.report.wiped.extend(sorted({m.message_id for m in stored}
                                         | {message_id for message_id, _ in recent}))
        self._metrics.wiped.labels(message.channel).inc(len(items) - left)
        self._metrics.wipe_left.labels(message.channel).inc(left)
        log.info("chat.wiped channel=%s removed=%d left=%d", message.channel,
                 len(items) - left, left)
        if left or not order.silent:
            text = order.left_text.replace("{count}", str(left)) if left else message.text
            await channel.send(replace(message, text=text, options=(), wipe=None))

    async def _with_file(self, message: OutboundMessage) -> OutboundMessage:
        """A file from another channel, fetched from there. When that can never work, the
        text goes alone with a note (the file stays kept with the case)."""
        attachment = message.attachment
        if attachment is None or attachment.channel in (None, message.channel) \
                or attachment.data is not None:
            return message
        source = self.channels.get(attachment.channel)
        try:
            if not isinstance(source, FileSource):
                raise PermanentDeliveryError("no_file_source")
            data = await source.fetch(attachment)
        except PermanentDeliveryError as exc:
            log.warning("delivery.file_unavailable message=%s source=%s reason=%s",
                        message.id, attachment.channel, exc.reason)
            note = self._logic.flows.text("file_not_passed_on").get(message.language)
            return replace(message, text=f"{message.text}\n{note}", attachment=None)
        return replace(message, attachment=replace(attachment, data=data))

    async def send_bilingual(self, event: InboundEvent, key: str) -> None:
        """A reply that is not stored: in Dutch and English, as the language is not looked up."""
        channel = self.channels.get(event.channel)
        if channel is None:
            return
        message = self._logic.flows.text(key)
        text = "\n\n".join(t.format_map(self._logic.facts) for t in (message.nl, message.en))
        with contextlib.suppress(Exception):
            refs = await channel.send(OutboundMessage(id=0, channel=event.channel,
                                                      recipient=event.sender, text=text))
            now = datetime.now(UTC)
            self.remember_unstored((event.channel, event.sender),
                                    [ChatItem(ref, now, False) for ref in refs or ()])

    def remember_unstored(self, key: tuple[str, str], found: Iterable[ChatItem]) -> None:
        """What is in a chat without a row (a message held back by the flood limit, the
        notices about that and about not saving) can still be wiped while the bot runs."""
        items = self._unstored_refs.setdefault(key, [])
        items += found
        self._unstored_refs.move_to_end(key)
        while len(self._unstored_refs) > MAX_REMEMBERED_FAILURES:
            self._unstored_refs.popitem(last=False)
