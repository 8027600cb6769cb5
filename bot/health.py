"""The HTTP endpoint for operators: ``/healthz`` (the database, whether messages are being
stored, and each channel) and ``/metrics`` (Prometheus). It binds to 127.0.0.1 unless
configured otherwise."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine, text

from bot.channel import Channel
from bot.metrics import Metrics
from storage.database import read_only

log = logging.getLogger(__name__)


class HealthServer:
    def __init__(self, db: Engine, channels: Mapping[str, Channel], metrics: Metrics,
                 listen: str, port: int, turns_ok: Callable[[], bool] = lambda: True,
                 replica: Callable[[], dict[str, object]] | None = None) -> None:
        """``replica``: what this replica of several does and holds (shown as ``replica``)."""
        self._db = read_only(db)
        self._replica = replica
        self._turns_ok = turns_ok
        self._channels = channels
        self._metrics = metrics
        self._listen, self._port = listen, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics_page)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._listen, self._port).start()
        log.info("health.listening address=%s port=%d", self._listen, self._port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _database_ok(self) -> bool:
        try:
            with self._db.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            log.warning("health.database_unreachable")
            return False
        return True

    async def _healthz(self, _: web.Request) -> web.Response:
        database = await asyncio.to_thread(self._database_ok)
        channels = {name: bool(getattr(channel, "healthy", lambda: True)())
                    for name, channel in self._channels.items()}
        turns = self._turns_ok()
        healthy = database and turns and all(channels.values())
        body: dict[str, object] = {"status": "ok" if healthy else "failing",
                "database": "ok" if database else "failing",
                "turns": "ok" if turns else "failing",
                "channels": {name: "ok" if ok else "failing" for name, ok in channels.items()}}
        if self._replica is not None:
            body["replica"] = self._replica()
        return web.json_response(body, status=200 if healthy else 503)

    async def _metrics_page(self, _: web.Request) -> web.Response:
        page = await asyncio.to_thread(generate_latest, self._metrics.registry)
        return web.Response(body=page, headers={"Content-Type": CONTENT_TYPE_LATEST})
