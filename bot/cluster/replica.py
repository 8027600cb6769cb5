"""One replica of several on one PostgreSQL database: the roles it was given (ingress,
worker, matrix), started and stopped together; see docs/DEPLOYMENT.md, "Several replicas".

A replica that loses what it must hold (the Matrix lease, its worker) stops with an error,
so that its supervisor (systemd, the container runtime) starts it afresh; the others carry on
meanwhile and take over its jobs and the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Coroutine
from typing import Any

from procrastinate import App

from bot.adapters.telegram import TelegramChannel
from bot.app import (
    build_channels,
    build_desk,
    build_engine,
    build_pager,
    load_experts,
    open_database,
    start_channels,
    watch_roster,
)
from bot.channel import Channel, InboundHandler
from bot.cluster.hooks import ReplicaHooks
from bot.cluster.ingress import QueueIngress
from bot.cluster.lease import Lease
from bot.cluster.queue import SHARED_QUEUE, build_app, ensure_schema
from bot.cluster.tasks import TaskSettings, add_tasks, retry_stalled
from bot.health import HealthServer
from bot.metrics import Metrics
from bot.roster_watch import LiveRoster
from config import TEXT_PLACEHOLDERS, Settings
from flows import load_flows
from storage.database import read_only

log = logging.getLogger(__name__)

MATRIX_LEASE = "matrix"
_FATAL = 1


class Replica:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.replica_name or f"{socket.gethostname()}-{os.getpid()}"
        self.roles = list(settings.roles)
        self.leases: dict[str, bool] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def describe(self) -> dict[str, object]:
        """For /healthz: who this is, what it does, which leases it holds."""
        return {"name": self.name, "roles": self.roles,
                "leases": sorted(name for name, held in self.leases.items() if held)}

    async def run(self) -> int:
        settings = self.settings
        roster = load_experts(settings)
        db = open_database(settings)
        if await asyncio.to_thread(ensure_schema, db):
            log.info("queue.schema_created")
        flows = load_flows(placeholders=TEXT_PLACEHOLDERS)
        metrics = Metrics()
        metrics.watch_cases(read_only(db))
        metrics.watch_queue(read_only(db))
        engine = build_engine(settings, db, flows, roster, metrics, hooks=ReplicaHooks())
        on_matrix = "matrix" in self.roles
        channels = build_channels(settings, flows, metrics, [
            name for name in settings.enabled_channels if name != "matrix" or on_matrix])
        live = LiveRoster(roster)
        pager = build_pager(settings, metrics, live)
        desk = build_desk(settings, db, flows, live)
        app = build_app(settings.database_url)
        add_tasks(app, engine, db, TaskSettings(settings.replica_stalled_seconds,
                                               settings.retention_days))
        ingress = QueueIngress(db, engine)
        running: dict[str, Channel] = {}  # what /healthz checks: the channels started here
        health = None
        if settings.health_port is not None:
            health = HealthServer(db, running, metrics, settings.health_listen,
                                  settings.health_port, turns_ok=engine.healthy,
                                  replica=self.describe)
            await health.start()
        if desk is not None:
            await desk.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await engine.start_replica({**channels, **({pager.name: pager} if pager else {})})
        watcher = None
        code = 0
        try:
            async with app.open_async():
                try:
                    await self._start_receiving(channels, running, ingress.handle)
                    if "worker" in self.roles:
                        self._spawn(self._work(app, [SHARED_QUEUE], "shared"))
                        self._spawn(self._sweep(app))
                    if on_matrix:
                        self._spawn(self._matrix_duty(app, channels["matrix"], running,
                                                      ingress.handle))
                    watcher = watch_roster(settings, engine, live)
                    log.info("replica.started name=%s roles=%s", self.name,
                             ",".join(self.roles))
                    code = await self._until_stopped(stop)
                finally:
                    # The workers first, while the channels and the queue are there: the jobs
                    # they have begun end (a delivery is sent), the rest waits for others.
                    log.info("replica.stopping name=%s", self.name)
                    for task in (*self._tasks, *([watcher] if watcher else [])):
                        task.cancel()
                    await asyncio.gather(*self._tasks, return_exceptions=True)
                    for channel in channels.values():
                        with contextlib.suppress(Exception):
                            await channel.stop()
        finally:
            if health is not None:
                await health.stop()
            if desk is not None:
                await desk.stop()
            await engine.stop()
            db.dispose()
            log.info("replica.stopped name=%s", self.name)
        return code

    async def _start_receiving(self, channels: dict[str, Channel], running: dict[str, Channel],
                               handle: InboundHandler) -> None:
        """Every channel but Matrix (which waits for its lease): taking updates when this
        replica is an ingress, else only sending."""
        for name, channel in channels.items():
            if name == "matrix":
                continue
            if "ingress" in self.roles:
                await start_channels({name: channel}, handle)
            elif isinstance(channel, TelegramChannel):
                await channel.start_sending()
            running[name] = channel

    async def _work(self, app: App, queues: list[str], label: str) -> None:
        settings = self.settings
        await app.run_worker_async(
            queues=queues, name=f"{self.name}-{label}", concurrency=settings.workers,
            wait=True, install_signal_handlers=False, delete_jobs="successful",
            update_heartbeat_interval=settings.replica_heartbeat_seconds,
            stalled_worker_timeout=settings.replica_stalled_seconds,
            shutdown_graceful_timeout=10)
        raise RuntimeError(f"the {label} worker stopped")

    async def _sweep(self, app: App) -> None:
        """Now and then, give the jobs of dead replicas to the living."""
        stalled = self.settings.replica_stalled_seconds
        while True:
            await asyncio.sleep(max(0.5, stalled / 3))
            try:
                await retry_stalled(app, stalled)
            except Exception as exc:  # the database is away: the next round tries again
                log.warning("queue.sweep_failed error=%s", type(exc).__name__)

    async def _matrix_duty(self, app: App, channel: Channel, running: dict[str, Channel],
                           handle: InboundHandler) -> None:
        """Wait for the Matrix lease; holding it, run the sync and the Matrix deliveries.
        Losing it ends the replica (another one takes over)."""
        lease = Lease(self.settings.database_url, MATRIX_LEASE)
        self.leases[MATRIX_LEASE] = False
        try:
            await lease.acquire()
            self.leases[MATRIX_LEASE] = True
            await start_channels({"matrix": channel}, handle)
            running["matrix"] = channel
            log.info("matrix.active replica=%s", self.name)
            worker = asyncio.create_task(self._work(app, ["matrix"], "matrix"))
            try:
                await lease.kept()
            finally:
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)
        finally:
            self.leases[MATRIX_LEASE] = False
            await lease.release()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self._tasks.add(asyncio.create_task(work))

    async def _until_stopped(self, stop: asyncio.Event) -> int:
        """0 on SIGTERM or SIGINT; 1 when a role failed (the log says which)."""
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({stopping, *self._tasks},
                                     return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        for task in done - {stopping}:
            self._tasks.discard(task)
            error = task.exception() if not task.cancelled() else None
            log.error("replica.role_failed error=%s", type(error).__name__ if error else "none")
            return _FATAL
        return 0


async def run_replica(settings: Settings) -> int:
    return await Replica(settings).run()
