"""Telegram's side of a webhook, for the local Bot API server: each update the fake person
sends is POSTed to one of the bot's replicas (as a load balancer in front of them would pick
one), and sent again, to another, until one answers 200. Like Telegram, several calls are
in flight at once (its ``max_connections``, 40 by default); one chat's updates go one after
the other, in order."""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.adapters.telegram_webhook import PATH, SECRET_HEADER
from tests.telegram_api import FakeTelegram

MAX_CONNECTIONS = 40


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
        self._chats: dict[object, deque[dict[str, Any]]] = {}
        self._senders: set[asyncio.Task[None]] = set()
        self._connections = asyncio.Semaphore(MAX_CONNECTIONS)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        for task in (self._task, *self._senders):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (self._task, *self._senders) if t is not None),
                             return_exceptions=True)

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=20)
        connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            taken = 0
            while True:
                if taken >= len(self.telegram.updates):
                    self.telegram.new_update.clear()
                    await self.telegram.new_update.wait()
                    continue
                update = self.telegram.updates[taken]
                taken += 1
                chat = _chat_of(update)
                if chat in self._chats:
                    self._chats[chat].append(update)
                    continue
                self._chats[chat] = deque([update])
                sender = asyncio.create_task(self._send_chat(session, chat))
                self._senders.add(sender)
                sender.add_done_callback(self._senders.discard)

    async def _send_chat(self, session: aiohttp.ClientSession, chat: object) -> None:
        waiting = self._chats[chat]
        try:
            while waiting:
                update = waiting[0]
                while not await self._post(session, update):
                    self.refused += 1
                    await asyncio.sleep(0.2)
                waiting.popleft()
                self.pushed += 1
        finally:
            del self._chats[chat]

    async def _post(self, session: aiohttp.ClientSession, update: dict[str, Any]) -> bool:
        ports = self.ports()
        if not ports:
            return False
        port = self.rng.choice(ports)
        async with self._connections:
            try:
                async with session.post(f"http://127.0.0.1:{port}{PATH}", json=update,
                                        headers={SECRET_HEADER: self.secret}) as response:
                    return response.status == 200
            except (TimeoutError, aiohttp.ClientError):
                return False


def _chat_of(update: dict[str, Any]) -> object:
    for key in ("message", "edited_message", "callback_query"):
        part = update.get(key)
        if isinstance(part, dict):
            sender = part.get("from")
            if isinstance(sender, dict):
                return sender.get("id")
    return None
