"""A local server that speaks Twilio's Messages API over HTTP (the part the pager uses), on
127.0.0.1: it checks the account's basic auth, records each text message, and can be told to
fail the next requests, as a provider's outage would."""

from __future__ import annotations

import asyncio
import base64
import itertools
import threading
from dataclasses import dataclass

from aiohttp import web

ACCOUNT, TOKEN = "AC0123456789abcdef0123456789abcdef", "test-auth-token"


@dataclass(frozen=True)
class Text:
    to: str
    sender: str
    body: str


class FakeSmsApi:
    def __init__(self) -> None:
        self.texts: list[Text] = []
        self.fail_next = 0
        """Answer this many of the next requests with 503, as during an outage."""
        self.refused = 0
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> FakeSmsApi:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self._messages)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _messages(self, request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
        if request.match_info["account"] != ACCOUNT or \
                request.headers.get("Authorization") != expected:
            self.refused += 1
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.json_response({"message": "Service Unavailable"}, status=503)
        form = await request.post()
        to, sender, body = str(form.get("To", "")), str(form.get("From", "")), \
            str(form.get("Body", ""))
        if not to.startswith("+"):
            return web.json_response({"code": 21211, "message": "Invalid 'To'"}, status=400)
        self.texts.append(Text(to, sender, body))
        sid = f"SM{next(self._ids):032d}"
        return web.json_response({"sid": sid, "status": "queued", "to": to}, status=201)


class FakeSmsApiThread:
    """The fake on its own event loop in a thread, for tests that drive the bot as a
    process (``with FakeSmsApiThread() as api: ... api.url ... api.texts``)."""

    def __init__(self) -> None:
        self.api = FakeSmsApi()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> FakeSmsApi:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.api.__aenter__(), self._loop).result(10)
        return self.api

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.api.__aexit__(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
