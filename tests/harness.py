"""Driving the real engine and storage from tests, through a channel that records what it sends."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine as DbEngine
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import start_scheduler, stop_scheduler
from bot.channel import Channel, DeliveryError, InboundHandler
from bot.checkins import CheckinDesk
from bot.conversation import ConversationLogic
from bot.engine import Engine
from bot.events import Attachment, InboundEvent, Location, OutboundMessage, SharedContact
from bot.metrics import Metrics
from bot.routing import Router
from config import TEXT_PLACEHOLDERS, Facts, text_facts
from flows import FlowSet, load_flows
from storage.database import create_db_engine, read_only
from storage.models import Case, Conversation, Message, Person

FLOWS: FlowSet = load_flows(placeholders=TEXT_PLACEHOLDERS)
FACTS: dict[str, str] = text_facts(Facts(), retention_days=365)


def make_logic(today: Callable[[], date] = lambda: date(2026, 11, 22)) -> ConversationLogic:
    return ConversationLogic(FLOWS, FACTS, today=today)


class RecordingChannel:
    """A channel that keeps what it is asked to send. ``failures`` makes the next sends fail."""

    name = "test"

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self.sent_at: list[float] = []
        self.failures: list[Exception] = []
        self.block: asyncio.Event | None = None

    async def start(self, handler: InboundHandler) -> None:
        self.handler = handler

    async def wait_closed(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def healthy(self) -> bool:
        return True

    async def send(self, message: OutboundMessage) -> None:
        if self.block is not None:
            await self.block.wait()
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        self.sent_at.append(time.monotonic())

    def to(self, who: str) -> list[OutboundMessage]:
        return [m for m in self.sent if m.recipient == who]


class Bot:
    """The engine on a real database, with one recording channel named ``test``."""

    def __init__(self, url: str, logic: ConversationLogic | None = None,
                 channel: RecordingChannel | None = None, batch_max_turns: int = 256,
                 flood_limit: str | None = None, router: Router | None = None,
                 channel_name: str = "test", checkins: CheckinDesk | None = None,
                 checkin_rate: float = 10.0, check_interval: float = 0.1,
                 metrics: Metrics | None = None,
                 more_channels: Mapping[str, Channel] | None = None) -> None:
        """``check_interval``: seconds between escalation checks, shorter than the bot's
        second so that tests wait less for an escalation that falls due; ``more_channels``:
        real adapters beside the recording one (the SMS pager)."""
        self.url = url
        self.channel_name = channel_name
        self.db: DbEngine = create_db_engine(url)
        self.channel = channel or RecordingChannel()
        self.engine = Engine(self.db, logic or make_logic(), batch_max_turns=batch_max_turns,
                             max_backoff_seconds=0.05, flood_limit=flood_limit, router=router,
                             checkins=checkins, checkin_rate_per_second=checkin_rate,
                             check_interval=check_interval, metrics=metrics)
        self.scheduler: AsyncIOScheduler | None = None
        self._scheduled = checkins is not None
        self._more_channels = dict(more_channels or {})

    async def __aenter__(self) -> Bot:
        await self.engine.start({self.channel_name: self.channel, **self._more_channels})
        if self._scheduled:  # as the app does: a real APScheduler with its jobs in the database
            self.scheduler = start_scheduler(self.engine, self.db)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.scheduler is not None:
            stop_scheduler(self.scheduler)
        await self.engine.stop()
        self.db.dispose()

    async def send(self, event: InboundEvent) -> list[OutboundMessage]:
        before = len(self.channel.sent)
        await self.engine.handle(event)
        await self.engine.drain()
        return [m for m in self.channel.sent[before:] if m.recipient == event.sender]

    async def say(self, text: str, who: str = "alice",
                  message_id: str | None = None) -> list[OutboundMessage]:
        return await self.send(InboundEvent(self.channel_name, who,
                                            message_id or uuid.uuid4().hex, text=text))

    async def press(self, payload: str, who: str = "alice") -> list[OutboundMessage]:
        return await self.send(InboundEvent(self.channel_name, who, uuid.uuid4().hex,
                                            option=payload))

    async def attach(self, kind: Any, who: str = "alice") -> list[OutboundMessage]:
        attachment = Attachment(kind=kind, ref=f"file-{uuid.uuid4().hex}")
        return await self.send(InboundEvent(self.channel_name, who, uuid.uuid4().hex,
                                            attachment=attachment))

    async def share_location(self, latitude: float, longitude: float,
                             who: str = "alice") -> list[OutboundMessage]:
        return await self.send(InboundEvent(self.channel_name, who, uuid.uuid4().hex,
                                            location=Location(latitude, longitude)))

    async def share_contact(self, name: str, phone: str, own: bool = False,
                            who: str = "alice") -> list[OutboundMessage]:
        return await self.send(InboundEvent(self.channel_name, who, uuid.uuid4().hex,
                                            contact=SharedContact(name, phone, own=own)))

    async def script(self, lines: list[str], who: str = "alice") -> list[OutboundMessage]:
        replies: list[OutboundMessage] = []
        for line in lines:
            replies += await self.say(line, who)
        return replies

    # -- looking into the database ---------------------------------------------------------

    def session(self) -> Session:
        return Session(read_only(self.db))

    def person(self, who: str = "alice") -> Person | None:
        with self.session() as s:
            return s.scalars(select(Person).where(Person.address == who)).one_or_none()

    def conversation(self, who: str = "alice") -> Conversation:
        with self.session() as s:
            return s.scalars(select(Conversation).join(Person).where(Person.address == who)
                             .order_by(Conversation.id.desc())).first()  # type: ignore[return-value]

    def cases(self, who: str = "alice") -> list[Case]:
        with self.session() as s:
            return list(s.scalars(select(Case).join(Person).where(Person.address == who)
                                  .order_by(Case.id)))

    def messages(self, who: str = "alice") -> list[Message]:
        with self.session() as s:
            return list(s.scalars(select(Message).where(Message.address == who)
                                  .order_by(Message.id)))


def texts(replies: list[OutboundMessage]) -> str:
    return "\n---\n".join(r.text for r in replies)


def labels(reply: OutboundMessage) -> list[str]:
    return [o.label for o in reply.options]


def transient(reason: str = "network") -> DeliveryError:
    return DeliveryError(reason)


def to(bot: Bot, who: str) -> str:
    """Everything the bot sent ``who``, as one text."""
    return texts(bot.channel.to(who))


async def wait_for(condition: Callable[[], object], within: float = 10.0) -> None:
    """Until ``condition()`` holds (the bot works on its own: escalations, timers)."""
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)
