"""/healthz and /metrics, for operators."""

from __future__ import annotations

import socket

import aiohttp

from bot.health import HealthServer
from bot.metrics import Metrics
from storage.database import read_only
from tests.harness import Bot, RecordingChannel


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class StuckChannel(RecordingChannel):
    name = "stuck"

    def healthy(self) -> bool:
        return False


async def test_health_and_metrics(sqlite_url: str) -> None:
    metrics = Metrics()
    async with Bot(sqlite_url, metrics=metrics) as bot:
        metrics.watch_cases(read_only(bot.db))
        await bot.script(["hallo", "1", "ja"])
        port = _free_port()
        server = HealthServer(bot.db, {"test": bot.channel}, metrics, "127.0.0.1", port)
        await server.start()
        try:
            async with aiohttp.ClientSession() as http:
                health = await http.get(f"http://127.0.0.1:{port}/healthz")
                assert health.status == 200
                assert await health.json() == {"status": "ok", "database": "ok",
                                               "turns": "ok", "channels": {"test": "ok"}}
                page = await (await http.get(f"http://127.0.0.1:{port}/metrics")).text()
        finally:
            await server.stop()
    assert 'weerbaar_messages_total{channel="test",direction="in"} 3.0' in page
    assert 'weerbaar_cases{status="intake"} 1.0' in page
    assert "weerbaar_turn_seconds_count 3.0" in page
    out = [line for line in page.splitlines()
           if line.startswith('weerbaar_messages_total{channel="test",direction="out"}')]
    assert out and float(out[0].split()[-1]) >= 5


async def test_a_failing_channel_makes_healthz_fail(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        port = _free_port()
        server = HealthServer(bot.db, {"test": bot.channel, "stuck": StuckChannel()},
                              Metrics(), "127.0.0.1", port)
        await server.start()
        try:
            async with aiohttp.ClientSession() as http:
                health = await http.get(f"http://127.0.0.1:{port}/healthz")
                body = await health.json()
        finally:
            await server.stop()
    assert health.status == 503
    assert body["channels"] == {"test": "ok", "stuck": "failing"}
