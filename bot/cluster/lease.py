"""A lease only one replica holds at a time: a PostgreSQL session-level advisory lock on a
connection of its own. It is the database's to give back: when the holder dies, its
connection closes and the lock is free for the next replica at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg

from bot.cluster.queue import libpq_url

log = logging.getLogger(__name__)

_TRY = "SELECT pg_try_advisory_lock(hashtext(current_schema() || ':lease:' || %s))"


class LeaseLost(Exception):
    """The connection that held the lease failed: another replica may hold it now."""


class Lease:
    """``await acquire()`` returns once this replica holds the lease; ``await kept()``
    returns never while it does, and raises :class:`LeaseLost` when it no longer may."""

    def __init__(self, database_url: str, name: str, *, check_seconds: float = 1.0) -> None:
        self._url = libpq_url(database_url)
        self.name = name
        self._check = check_seconds
        self._connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self.held = False

    async def acquire(self) -> None:
        while True:
            try:
                if self._connection is None or self._connection.closed:
                    self._connection = await psycopg.AsyncConnection.connect(
                        self._url, autocommit=True)
                cursor = await self._connection.execute(_TRY, (self.name,))
                row = await cursor.fetchone()
                if row is not None and row[0]:
                    self.held = True
                    log.info("lease.taken name=%s", self.name)
                    return
            except psycopg.Error as exc:
                log.warning("lease.unreachable name=%s error=%s", self.name, type(exc).__name__)
                await self._close()
            await asyncio.sleep(self._check)

    async def kept(self) -> None:
        assert self._connection is not None
        try:
            while True:
                await asyncio.sleep(self._check)
                await self._connection.execute("SELECT 1")
        except psycopg.Error:
            self.held = False
            log.error("lease.lost name=%s", self.name)
            raise LeaseLost(self.name) from None

    async def release(self) -> None:
        self.held = False
        await self._close()

    async def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):
                await self._connection.close()
        self._connection = None
