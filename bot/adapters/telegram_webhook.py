"""Receiving Telegram updates by webhook, with an HTTP handler of our own.

Telegram sends every update as a POST with the secret token (set with ``setWebhook``) in the
``X-Telegram-Bot-Api-Secret-Token`` header. A request without the right secret is refused
(compared in constant time), so nobody can forge a person's or an expert's message. An update
is answered ``200`` only after the engine has stored it; when it could not be stored the
answer is ``500``, and Telegram sends it again later. (python-telegram-bot's own webhook server
answers before the update is handled, so a crash in between would lose it.)
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
PATH = "/telegram"
MAX_BODY_BYTES = 1024 * 1024  # an update is a few KiB; a 1 MiB body is not Telegram's

UpdateHandler = Callable[[object], Awaitable[bool]]
"""Takes a raw update; returns whether it is stored (or needs no storing)."""


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str
    listen: str = "127.0.0.1"
    port: int = 8443

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("a webhook needs a secret token")


class WebhookServer:
    def __init__(self, webhook: Webhook, handle: UpdateHandler) -> None:
        self._webhook = webhook
        self._secret = webhook.secret.encode("utf-8")
        self._handle = handle
        self._runner: web.AppRunner | None = None
        self.running = False

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(PATH, self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._webhook.listen, self._webhook.port).start()
        self.running = True

    async def stop(self) -> None:
        self.running = False
        if self._runner is not None:
            await self._runner.cleanup()

    def _signed(self, request: web.Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        return hmac.compare_digest(given, self._secret)

    async def _receive(self, request: web.Request) -> web.Response:
        if not self._signed(request):
            log.warning("telegram.webhook_refused reason=secret")
            return web.Response(status=403)
        try:
            raw = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            raw = None  # read as unreadable below, and confirmed
        stored = await self._handle(raw)
        return web.Response(status=200 if stored else 500)
