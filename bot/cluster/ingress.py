"""Taking an event in on a replica: stored with its turn job in one transaction, confirmed
to the channel (the webhook's 200, Matrix's sync token) only after the commit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import Engine as DbEngine

from bot.cluster import inbox
from bot.cluster.queue import TURN_TASK, Job, defer, person_lock
from bot.engine import Engine
from bot.events import InboundEvent
from bot.logsafe import describe

log = logging.getLogger(__name__)


class QueueIngress:
    """The channels' handler on a replica. ``engine`` keeps the flood limit and tells a
    person when their message could not be saved, as in one process."""

    def __init__(self, db: DbEngine, engine: Engine) -> None:
        self._db = db
        self._engine = engine

    async def handle(self, event: InboundEvent,
                     on_committed: Callable[[bool], None] | None = None) -> None:
        committed = on_committed or (lambda stored: None)
        admitted, tell = self._engine.admit(event)
        if admitted is None:
            committed(True)
            if tell:
                await self._engine.tell_held_back(event)
            return
        try:
            await asyncio.to_thread(self._store, admitted)
        except Exception as exc:
            log.error("inbound.not_queued channel=%s error=%s", event.channel, describe(exc))
            self._engine.stored(False)
            committed(False)
            await self._engine.tell_not_stored(event)
            return
        self._engine.stored(True)
        committed(True)

    def _store(self, event: InboundEvent) -> None:
        job = Job(TURN_TASK, person_lock(event.channel, event.sender),
                  {"event": inbox.sealed(event)})
        with self._db.begin() as connection:
            defer(connection, job)
