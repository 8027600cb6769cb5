"""The engine: takes inbound events from channels, runs turns with group commit, and
delivers the replies in order per person.

All database work happens in one thread, in batches: every event waiting when the thread
is free goes into one transaction. A person's messages are therefore handled one after the
other, in arrival order, and a reply is only sent after the turn that made it is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Engine as DbEngine
from sqlalchemy.orm import sessionmaker

from bot.channel import (
    Channel,
    ChatWiper,
    DeliveryError,
    FileSource,
    PermanentDeliveryError,
)
from bot.checkins import CheckinDesk
from bot.conversation import ConversationLogic
from bot.events import ChatItem, InboundEvent, OutboundMessage
from bot.flood import FloodGuard
from bot.logsafe import describe
from bot.metrics import Metrics
from bot.routing import Router
from bot.turns import (
    ESCALATION_CHECK_SECONDS,
    BatchResult,
    DeliveryReport,
    Posted,
    TurnRunner,
    to_outbound,
)
from bot.write_buffer import TurnResult
from config.experts import Roster
from storage import repository as repo
from storage.database import read_only
from storage.models import utcnow

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 0.5
ANSWERED_RETRY_SECONDS = 2.0
CHECKIN_RETRY_SECONDS = 30.0
MAX_REMEMBERED_FAILURES = 10_000
_T = TypeVar("_T")


@dataclass
class _Job:
    event: InboundEvent
    future: asyncio.Future[TurnResult]


class Engine:
    def __init__(self, db: DbEngine, logic: ConversationLogic, *, default_language: str = "nl",
                 batch_max_turns: int = 256, max_backoff_seconds: float = 60.0,
                 flood_limit: str | None = None,
                 flood_exempt: frozenset[str] = frozenset(),
                 metrics: Metrics | None = None, router: Router | None = None,
                 checkins: CheckinDesk | None = None,
                 checkin_rate_per_second: float = 10.0,
                 clock: Callable[[], datetime] = utcnow,
                 check_interval: float = ESCALATION_CHECK_SECONDS) -> None:
        """``clock`` and ``check_interval``: see :class:`bot.turns.TurnRunner` (tests set
        them; the bot uses the real time and a check a second)."""
        self._reads = sessionmaker(read_only(db), expire_on_commit=False)
        self._runner = TurnRunner(db, logic, default_language, router, checkins, clock=clock,
                                  check_interval=check_interval)
        self._check_interval = check_interval
        self._checkins_arrived = asyncio.Event()
        self._checkin_rate = checkin_rate_per_second
        self._checkin_pump: asyncio.Task[None] | None = None
        self._wake_at: Callable[[datetime], None] | None = None
        self._routing = router is not None
        self._ticker: asyncio.Task[None] | None = None
        self._logic = logic
        self._batch_max = batch_max_turns
        self._max_backoff = max_backoff_seconds
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="weerbaar-db")
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._report = DeliveryReport()
        self._report_wakeup_queued = False
        self._channels: dict[str, Channel] = {}
        self._recipient_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._recipient_users: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._deliveries: set[asyncio.Task[None]] = set()
        self._writer: asyncio.Task[None] | None = None
        self._flood = FloodGuard(
            flood_limit, is_alarm=lambda text: bool(logic.signals.check(text)),
            gets_through=lambda text: logic.commands.match(text) in ("human", "quick_exit"),
        ) if flood_limit else None
        self._flood_exempt = flood_exempt
        self._metrics = metrics or Metrics()
        self._storing = True
        self._told_not_stored: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._unstored_refs: OrderedDict[tuple[str, str], list[ChatItem]] = OrderedDict()

    async def start(self, channels: Mapping[str, Channel]) -> None:
        """Start the writer and re-send replies a previous run committed but never sent."""
        self._channels = dict(channels)
        self._writer = asyncio.create_task(self._write_loop(), name="weerbaar-writer")
        pending = await self._in_db_thread(self._load_undelivered)
        if pending:
            log.info("outbox.resume count=%d", len(pending))
        self._deliver_in_background(pending)
        if self._routing:
            self._ticker = asyncio.create_task(self._tick(), name="weerbaar-escalations")
        self._checkin_pump = asyncio.create_task(self._pump_checkins(), name="weerbaar-checkins")

    def on_schedule(self, wake_at: Callable[[datetime], None]) -> None:
        """``wake_at(moment)`` is called (in the database thread) when a check-in was planned
        or moved, and after sending the due ones, so that :meth:`checkins_due` is called then."""
        self._wake_at = wake_at

    async def use_roster(self, roster: Roster) -> None:
        """Route with a changed roster from now on. The next batch gives the cases of experts
        who are no longer on it to others; it runs at once."""
        await self._in_db_thread(lambda: self._runner.use_roster(roster))
        self._wake_writer_for_report()

    def checkins_due(self) -> None:
        """Check-ins may be due: send them (called by the scheduler on the event loop)."""
        self._checkins_arrived.set()

    async def _pump_checkins(self) -> None:
        while True:
            await self._checkins_arrived.wait()
            self._checkins_arrived.clear()
            try:
                await self._send_due_checkins()
            except Exception:
                # They stay planned in the database; try again a little later.
                log.exception("checkin.send_failed")
                self._metrics.checkins.labels("failed").inc()
                await asyncio.sleep(CHECKIN_RETRY_SECONDS)
                self._checkins_arrived.set()

    async def _send_due_checkins(self) -> None:
        """Send the due check-ins a page at a time, at most the configured number per second,
        so a crowd of them (say at 09:00 after the quiet hours) stays within the channels'
        rate limits and never sits in memory at once; then arrange the next wake-up."""
        loop = asyncio.get_running_loop()
        page = max(1, int(self._checkin_rate))
        while True:
            started = loop.time()
            due = await self._in_db_thread(lambda: self._runner.due_checkins(page))
            if not due:
                break
            outcome: BatchResult = await loop.run_in_executor(
                self._executor, self._runner.run_batch, [], DeliveryReport(), due)
            if not outcome.checkins_done:
                raise RuntimeError("the due check-ins were not handled")
            self._deliver_in_background(outcome.extra.replies)
            await self._schedule_checkins(outcome)
            await asyncio.sleep(max(0.0, len(due) / self._checkin_rate
                                    - (loop.time() - started)))
        following = await self._in_db_thread(self._runner.next_checkin)
        if following is not None:
            await self._wake_checkins_at(following)

    async def _tick(self) -> None:
        """Wake the writer now and then, so due escalations run when nobody writes."""
        while True:
            await asyncio.sleep(self._check_interval)
            self._wake_writer_for_report()

    def _deliver_in_background(self, messages: list[OutboundMessage]) -> None:
        if not messages:
            return
        task = asyncio.create_task(self._deliver(messages))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def handle(self, event: InboundEvent,
                     on_committed: Callable[[bool], None] | None = None) -> None:
        """Handle one inbound event; returns when its replies were delivered or given up.

        ``on_committed(stored)`` is called once the event's fate is known: ``True`` when it is
        stored, or needs no storing (a duplicate, or held back by the flood limit, which the
        person is told); ``False`` when it could not be stored (the database failed), so the
        channel does not confirm it to its platform and gets it again later. The person is
        then told that it was *not* saved, once per message."""
        committed = on_committed or (lambda stored: None)
        started = time.perf_counter()
        self._metrics.messages.labels(event.channel, "in").inc()
        if self._flood is not None and event.channel not in self._flood_exempt:
            admission = self._flood.admit(event)
            if not admission.handle:
                committed(True)
                if event.platform_ref is not None:
                    self._remember_unstored((event.channel, event.sender), [ChatItem(
                        event.platform_ref, datetime.now(UTC), True)])
                log.info("inbound.flood channel=%s", event.channel)
                self._metrics.floods.labels(event.channel).inc()
                if admission.notice:
                    await self._send_bilingual(event, "flood")
                return
            if admission.burst:
                log.info("inbound.burst channel=%s advise=%s", event.channel, admission.advise)
                event = replace(event, burst=True, advise=admission.advise)
        future: asyncio.Future[TurnResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(event, future))
        try:
            result = await future
        except Exception as exc:
            log.error("batch.failed channel=%s error=%s", event.channel, describe(exc))
            result = TurnResult(stored=False)
        self._storing = result.stored
        if not result.stored:
            self._metrics.turns_not_stored.inc()
            committed(False)
            await self._tell_not_stored(event)
            return
        committed(True)
        sender = (event.channel, event.sender)
        own = [m for m in result.replies if (m.channel, m.recipient) == sender]
        # Messages to others (an expert, or the person an expert writes to) go out on their
        # own, so a slow channel of one does not hold up the other.
        self._deliver_in_background([m for m in result.replies
                                     if (m.channel, m.recipient) != sender])
        await self._deliver(own)
        self._metrics.turn_seconds.observe(time.perf_counter() - started)

    def healthy(self) -> bool:
        """Whether turns are being stored: false after the latest event could not be."""
        return self._storing

    async def _tell_not_stored(self, event: InboundEvent) -> None:
        """Tell the person, once per message (a channel may hand the same one in again)."""
        key = (event.channel, event.message_id)
        if key in self._told_not_stored:
            return
        self._told_not_stored[key] = None
        while len(self._told_not_stored) > MAX_REMEMBERED_FAILURES:
            self._told_not_stored.popitem(last=False)
        await self._send_bilingual(event, "error_not_saved")

    async def drain(self) -> None:
        """Wait until every message handed to delivery so far was sent or given up."""
        while self._deliveries:
            await asyncio.gather(*list(self._deliveries), return_exceptions=True)

    async def settle(self) -> None:
        """Wait until nothing is in flight: every delivery sent or given up, and what the
        deliveries reported (delivered, failed) written to the database."""
        while True:
            await self.drain()
            self._wake_writer_for_report()
            await self._queue.join()
            if not self._deliveries:
                return

    async def stop(self) -> None:
        """Finish the turns in flight, record what was delivered, and stop."""
        for task in (self._ticker, self._checkin_pump):
            if task is not None:
                task.cancel()
        for task in list(self._deliveries):
            task.cancel()
        await asyncio.gather(*self._deliveries, return_exceptions=True)
        self._queue.put_nowait(None)
        await self._queue.join()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        self._executor.shutdown(wait=True)

    # -- writing ---------------------------------------------------------------------------

    async def _in_db_thread(self, fn: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def _load_undelivered(self) -> list[OutboundMessage]:
        with self._reads() as session:
            return [to_outbound(row) for row in repo.undelivered(session)]

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            items = [first]
            while len(items) < self._batch_max and not self._queue.empty():
                items.append(self._queue.get_nowait())
            jobs = [item for item in items if item is not None]
            report, self._report = self._report, DeliveryReport()
            self._report_wakeup_queued = False
            events = [job.event for job in jobs]
            try:
                outcome: BatchResult = await loop.run_in_executor(
                    self._executor, self._runner.run_batch, events, report)
            except Exception as exc:
                self._report.delivered.extend(report.delivered)
                self._report.failed.extend(report.failed)
                self._report.posted.update(report.posted)
                self._report.wiped.extend(report.wiped)
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)
            else:
                for job, result in zip(jobs, outcome.results, strict=True):
                    if not job.future.done():
                        job.future.set_result(result)
                self._deliver_in_background(outcome.extra.replies)
                await self._schedule_checkins(outcome)
            finally:
                for _ in items:
                    self._queue.task_done()

    async def _schedule_checkins(self, outcome: BatchResult) -> None:
        if outcome.planned_checkins:
            await self._wake_checkins_at(min(due for _, due in outcome.planned_checkins))

    async def _wake_checkins_at(self, moment: datetime) -> None:
        wake_at = self._wake_at
        if wake_at is None:
            return
        try:
            await self._in_db_thread(lambda: wake_at(moment))
        except Exception:
            # The check-ins are in the database; the next start sets the wake-up again.
            log.exception("checkin.schedule_failed")

    def _wake_writer_for_report(self) -> None:
        if not self._report_wakeup_queued:
            self._report_wakeup_queued = True
            self._queue.put_nowait(None)

    # -- delivering ------------------------------------------------------------------------

    async def _deliver(self, messages: Iterable[OutboundMessage]) -> None:
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
        channel = self._channels.get(message.channel)
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
                self._report.failed.append((message.id, exc.reason, True))
                self._wake_writer_for_report()
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
                self._report.failed.append((message.id, reason, False))
                self._wake_writer_for_report()
                await asyncio.sleep(delay)
            else:
                self._metrics.messages.labels(message.channel, "out").inc()
                self._report.delivered.append(message.id)
                if refs:
                    self._report.posted[message.id] = Posted(
                        message.channel, message.recipient, list(refs), datetime.now(UTC))
                self._wake_writer_for_report()
                return

    async def _wipe(self, channel: Channel, message: OutboundMessage) -> None:
        """Remove the chat before ``message`` from the person's device, then say its neutral
        last words (unless silent): how many messages are left, if any."""
        order = message.wipe
        assert order is not None
        key = (message.channel, message.recipient)
        # Delivered since the last batch, so not in the database yet; taken before reading
        # the database, as the report may be written meanwhile (then both have them).
        recent = [(message_id, posted) for message_id, posted in self._report.posted.items()
                  if (posted.channel, posted.recipient) == key and message_id < message.id]
        stored = await self._in_db_thread(
            lambda: self._runner.chat_messages(*key, before=message.id))
        items = [ChatItem(m.ref, m.at, m.inbound) for m in stored]
        items += [ChatItem(ref, posted.at, False) for _, posted in recent for ref in posted.refs]
        items += self._unstored_refs.pop(key, [])
        left = await channel.wipe(message.recipient, items) \
            if isinstance(channel, ChatWiper) else 0
        self._report.wiped.extend(sorted({m.message_id for m in stored}
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
        source = self._channels.get(attachment.channel)
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

    async def _send_bilingual(self, event: InboundEvent, key: str) -> None:
        """A reply that is not stored: in Dutch and English, as the language is not looked up."""
        channel = self._channels.get(event.channel)
        if channel is None:
            return
        message = self._logic.flows.text(key)
        text = "\n\n".join(t.format_map(self._logic.facts) for t in (message.nl, message.en))
        with contextlib.suppress(Exception):
            refs = await channel.send(OutboundMessage(id=0, channel=event.channel,
                                                      recipient=event.sender, text=text))
            now = datetime.now(UTC)
            self._remember_unstored((event.channel, event.sender),
                                    [ChatItem(ref, now, False) for ref in refs or ()])

    def _remember_unstored(self, key: tuple[str, str], found: Iterable[ChatItem]) -> None:
        """What is in a chat without a row (a message held back by the flood limit, the
        notices about that and about not saving) can still be wiped while the bot runs."""
        items = self._unstored_refs.setdefault(key, [])
        items += found
        self._unstored_refs.move_to_end(key)
        while len(self._unstored_refs) > MAX_REMEMBERED_FAILURES:
            self._unstored_refs.popitem(last=False)
