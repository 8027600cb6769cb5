"""Telegram's side of a webhook, for the local Bot API server: each update the fake person
sends is POSTed to one of the bot's replicas (as a load balancer in front of them would pick
one), in order, and sent again, to another, until one answers 200."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable

import aiohttp

from bot.adapters.telegram_webhook import PATH, SECRET_HEADER
from tests.telegram_api import FakeTelegram


class WebhookPusher:
    def __init__(self, telegram: FakeTelegram, ports: Callable[[], list[int]], secret: str,
                 rng: random.Random | None = None) -> None:
        self.telegram = telegram
        self.ports = ports
        self.secret = secret
        self.rng = rng or random.Random(1)
        self.pushed = 0
        self.refused = 0  # attempts that got no 200 (a replica down, or not stored)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=20)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                if self.pushed >= len(self.telegram.updates):
                    self.telegram.new_update.clear()
                    await self.telegram.new_update.wait()
                    continue
                update = self.telegram.updates[self.pushed]
                while not await self._post(session, update):
                    self.refused += 1
                    await asyncio.sleep(0.2)
                self.pushed += 1

    async def _post(self, session: aiohttp.ClientSession, update: dict[str, object]) -> bool:
        ports = self.ports()
        if not ports:
            return False
        port = self.rng.choice(ports)
        try:
            async with session.post(f"http://127.0.0.1:{port}{PATH}", json=update,
                                    headers={SECRET_HEADER: self.secret}) as response:
                return response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False
