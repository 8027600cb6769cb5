"""The engine: takes inbound events from channels, runs turns with group commit, and
delivers the replies in order per person.

All database work happens in one thread, in batches: every event waiting when the thread
is free goes into one transaction. A person's messages are therefore handled one after the
other, in arrival order, and a reply is only sent after the turn that made it is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Engine as DbEngine
from sqlalchemy.orm import sessionmaker

from bot.channel import (
    Channel,
)
from bot.checkins import CheckinDesk
from bot.conversation import ConversationLogic
from bot.delivery import MAX_REMEMBERED_FAILURES, Delivery
from bot.delivery_report import DeliveryReport
from bot.events import ChatItem, InboundEvent, OutboundMessage
from bot.flood import FloodGuard
from bot.logsafe import describe
from bot.metrics import Metrics
from bot.routing import Router
from bot.turns import (
    ESCALATION_CHECK_SECONDS,
    BatchHooks,
    BatchResult,
    TurnRunner,
    to_outbound,
)
from bot.write_buffer import TurnResult
from config.experts import Roster
from storage import repository as repo
from storage.database import read_only
from storage.models import utcnow

log = logging.getLogger(__name__)

CHECKIN_RETRY_SECONDS = 30.0
_T = TypeVar("_T")


@dataclass
class _Job:
    """An event to handle; or, without one, a batch to run (the deliveries' report written;
    with ``timers``, the due escalations, reminders and the check-ins ``due``)."""

    event: InboundEvent | None
    future: asyncio.Future[TurnResult]
    timers: bool = False
    due: list[int] = field(default_factory=list)


class Engine:
    def __init__(self, db: DbEngine, logic: ConversationLogic, *, default_language: str = "nl",
                 batch_max_turns: int = 256, max_backoff_seconds: float = 60.0,
                 flood_limit: str | None = None,
                 flood_exempt: frozenset[str] = frozenset(),
                 metrics: Metrics | None = None, router: Router | None = None,
                 checkins: CheckinDesk | None = None,
                 checkin_rate_per_second: float = 10.0,
                 clock: Callable[[], datetime] = utcnow,
                 check_interval: float = ESCALATION_CHECK_SECONDS,
                 hooks: BatchHooks | None = None) -> None:
        """``clock`` and ``check_interval``: see :class:`bot.turns.TurnRunner` (tests set
        them; the bot uses the real time and a check a second). ``hooks``: this engine is a
        replica of several (:mod:`bot.cluster`): its batches defer the deliveries as jobs
        instead of sending the replies, and timers run only when a job asks."""
        self._reads = sessionmaker(read_only(db), expire_on_commit=False)
        self._replica = hooks is not None
        self._runner = TurnRunner(db, logic, default_language, router, checkins, clock=clock,
                                  check_interval=check_interval, hooks=hooks)
        self._check_interval = check_interval
        self._checkins_arrived = asyncio.Event()
        self._checkin_rate = checkin_rate_per_second
        self._checkin_pump: asyncio.Task[None] | None = None
        self._wake_at: Callable[[datetime], None] | None = None
        self._routing = router is not None
        self._ticker: asyncio.Task[None] | None = None
        self._logic = logic
        self._batch_max = batch_max_turns
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="weerbaar-db")
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._report_wakeup_queued = False
        self._writer: asyncio.Task[None] | None = None
        self._flood = FloodGuard(
            flood_limit, is_alarm=lambda text: bool(logic.signals.check(text)),
            gets_through=lambda text: logic.commands.match(text) in ("human", "quick_exit"),
        ) if flood_limit else None
        self._flood_exempt = flood_exempt
        self._metrics = metrics or Metrics()
        self._delivery = Delivery(logic, self._metrics, max_backoff=max_backoff_seconds,
                                  wake_writer=self._wake_writer_for_report,
                                  chat_messages=self._chat_messages)
        self._storing = True
        self._told_not_stored: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def start(self, channels: Mapping[str, Channel]) -> None:
        """Start the writer and re-send replies a previous run committed but never sent."""
        self._delivery.channels = dict(channels)
        self._writer = asyncio.create_task(self._write_loop(), name="weerbaar-writer")
        pending = await self._in_db_thread(self._load_undelivered)
        if pending:
            log.info("outbox.resume count=%d", len(pending))
        self._delivery.in_background(pending)
        if self._routing:
            self._ticker = asyncio.create_task(self._tick(), name="weerbaar-escalations")
        self._checkin_pump = asyncio.create_task(self._pump_checkins(), name="weerbaar-checkins")

    async def start_replica(self, channels: Mapping[str, Channel]) -> None:
        """Start as a replica of several: the writer only (deliveries, timers and the outbox
        left by a crash are the queue's jobs)."""
        self._delivery.channels = dict(channels)
        self._writer = asyncio.create_task(self._write_loop(), name="weerbaar-writer")

    async def run_turn(self, event: InboundEvent) -> TurnResult:
        """Handle ``event`` in the next batch (a replica's turn job); returns once it is
        committed, with the replies it made (delivered by their own jobs)."""
        return await self._run_job(_Job(event, self._new_future()))

    async def run_timers(self) -> None:
        """Send what is due now: escalations, reminders and a page of check-ins."""
        page = max(1, int(self._checkin_rate))
        due = await self._in_db_thread(lambda: self._runner.due_checkins(page))
        await self._run_job(_Job(None, self._new_future(), timers=True, due=due))

    async def deliver_chat(self, message_id: int) -> int:
        """Send the outbox of the chat of message ``message_id``, oldest first, each message's
        delivery written before the next is sent (a replica's delivery job: killed in between,
        at most the one in flight is sent again). Returns how many were sent or given up."""
        # A read: not in the database thread, which the writes of every job share.
        pending = await asyncio.to_thread(self._undelivered_with, message_id)
        for message in pending:
            await self._delivery.deliver([message])
            await self._run_job(_Job(None, self._new_future()))
        return len(pending)

    def _undelivered_with(self, message_id: int) -> list[OutboundMessage]:
        with self._reads() as session:
            return [to_outbound(row) for row in repo.undelivered_with(session, message_id)]

    def _new_future(self) -> asyncio.Future[TurnResult]:
        return asyncio.get_running_loop().create_future()

    async def _run_job(self, job: _Job) -> TurnResult:
        self._queue.put_nowait(job)
        return await job.future

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
            self._delivery.in_background(outcome.extra.replies)
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

    async def _chat_messages(self, recipient: tuple[str, str],
                             before: int) -> list[repo.ChatMessage]:
        return await self._in_db_thread(
            lambda: self._runner.chat_messages(*recipient, before=before))

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
        admitted, tell = self.admit(event)
        if admitted is None:
            committed(True)
            if tell:
                await self.tell_held_back(event)
            return
        event = admitted
        try:
            result = await self._run_job(_Job(event, self._new_future()))
        except Exception as exc:
            log.error("batch.failed channel=%s error=%s", event.channel, describe(exc))
            result = TurnResult(stored=False)
        self.stored(result.stored)
        if not result.stored:
            committed(False)
            await self.tell_not_stored(event)
            return
        committed(True)
        sender = (event.channel, event.sender)
        own = [m for m in result.replies if (m.channel, m.recipient) == sender]
        # Messages to others (an expert, or the person an expert writes to) go out on their
        # own, so a slow channel of one does not hold up the other.
        self._delivery.in_background([m for m in result.replies
                                     if (m.channel, m.recipient) != sender])
        await self._delivery.deliver(own)
        self._metrics.turn_seconds.observe(time.perf_counter() - started)

    def admit(self, event: InboundEvent) -> tuple[InboundEvent | None, bool]:
        """``event`` as the flood limit lets it through (marked as part of a burst), or
        ``None`` when it is held back; and whether the person is to be told of that (once,
        with :meth:`tell_held_back`, after the channel was told the event needs no storing)."""
        self._metrics.messages.labels(event.channel, "in").inc()
        if self._flood is None or event.channel in self._flood_exempt:
            return event, False
        admission = self._flood.admit(event)
        if not admission.handle:
            if event.platform_ref is not None:
                self._delivery.remember_unstored((event.channel, event.sender), [ChatItem(
                    event.platform_ref, datetime.now(UTC), True)])
            log.info("inbound.flood channel=%s", event.channel)
            self._metrics.floods.labels(event.channel).inc()
            return None, admission.notice
        if admission.burst:
            log.info("inbound.burst channel=%s advise=%s", event.channel, admission.advise)
            return replace(event, burst=True, advise=admission.advise), False
        return event, False

    async def tell_held_back(self, event: InboundEvent) -> None:
        await self._delivery.send_bilingual(event, "flood")

    def healthy(self) -> bool:
        """Whether turns are being stored: false after the latest event could not be."""
        return self._storing

    def stored(self, ok: bool) -> None:
        """Whether the latest event could be stored (for :meth:`healthy`)."""
        self._storing = ok
        if not ok:
            self._metrics.turns_not_stored.inc()

    async def tell_not_stored(self, event: InboundEvent) -> None:
        """Tell the person, once per message (a channel may hand the same one in again)."""
        key = (event.channel, event.message_id)
        if key in self._told_not_stored:
            return
        self._told_not_stored[key] = None
        while len(self._told_not_stored) > MAX_REMEMBERED_FAILURES:
            self._told_not_stored.popitem(last=False)
        await self._delivery.send_bilingual(event, "error_not_saved")

    async def drain(self) -> None:
        """Wait until every message handed to delivery so far was sent or given up."""
        await self._delivery.drain()

    async def settle(self) -> None:
        """Wait until nothing is in flight: every delivery sent or given up, and what the
        deliveries reported (delivered, failed) written to the database."""
        while True:
            await self.drain()
            self._wake_writer_for_report()
            await self._queue.join()
            if not self._delivery.tasks:
                return

    async def stop(self) -> None:
        """Finish the turns in flight, record what was delivered, and stop."""
        for task in (self._ticker, self._checkin_pump):
            if task is not None:
                task.cancel()
        await self._delivery.cancel()
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
            report = self._delivery.take_report()
            self._report_wakeup_queued = False
            turns = [job for job in jobs if job.event is not None]
            events = [job.event for job in turns if job.event is not None]
            timers = any(job.timers for job in jobs)
            due = [checkin for job in jobs for checkin in job.due]
            try:
                outcome: BatchResult = await loop.run_in_executor(
                    self._executor, functools.partial(self._runner.run_batch, events, report,
                                                      due, timers=timers))
            except Exception as exc:
                self._delivery.give_back(report)
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)
            else:
                for job, result in zip(turns, outcome.results, strict=True):
                    if not job.future.done():
                        job.future.set_result(result)
                for job in jobs:
                    if not job.future.done():
                        job.future.set_result(outcome.extra)
                if not self._replica:
                    self._delivery.in_background(outcome.extra.replies)
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
