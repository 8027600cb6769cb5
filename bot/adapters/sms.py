"""Paging by SMS: an outbound-only channel that hands each message to an SMS provider's HTTP
API. It knows its provider and nothing of cases; what it sends (a case number, never content)
is decided by the router. ``SmsProvider`` is the interface a provider implements; the one here
speaks Twilio's REST API (``POST /2010-04-01/Accounts/{sid}/Messages.json``) over plain HTTP,
and its base address can point at a test double or a gateway speaking the same API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import httpx

from bot.channel import DeliveryError, InboundHandler, PermanentDeliveryError
from bot.events import OutboundMessage

SMS_LIMIT = 320
"""Two SMS parts at most; a page is one line."""


class SmsProvider(Protocol):
    """Sends one text to one number; returns the provider's id of the message. Raises
    :class:`DeliveryError` when trying again may work, :class:`PermanentDeliveryError` when it
    never will (a number it refuses)."""

    async def send(self, number: str, text: str) -> str: ...

    async def close(self) -> None: ...


class TwilioProvider:
    """Twilio's Messages API, with the account's SID and auth token (HTTP basic auth)."""

    def __init__(self, account: str, token: str, sender: str,
                 base_url: str = "https://api.twilio.com", timeout: float = 10.0) -> None:
        self._url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account}/Messages.json"
        self._sender = sender
        self._client = httpx.AsyncClient(auth=(account, token), timeout=timeout)

    async def send(self, number: str, text: str) -> str:
        try:
            response = await self._client.post(
                self._url, data={"To": number, "From": self._sender, "Body": text})
        except httpx.HTTPError as exc:
            raise DeliveryError(type(exc).__name__) from exc
        if response.status_code == 429 or response.status_code >= 500:
            retry = response.headers.get("Retry-After", "")
            raise DeliveryError(f"http_{response.status_code}", answered=True,
                                retry_after=float(retry) if retry.isdigit() else None)
        if response.status_code in (401, 403):
            # Wrong credentials are the operator's to fix; keep the page and try again.
            raise DeliveryError(f"http_{response.status_code}", answered=True)
        if response.status_code >= 400:
            raise PermanentDeliveryError(f"http_{response.status_code}")
        try:
            return str(response.json().get("sid", ""))
        except ValueError:
            return ""

    async def close(self) -> None:
        await self._client.aclose()


class SmsChannel:
    """The pager: sends, never receives. A message's recipient is a name that ``numbers``
    gives the number of (an expert's id; numbers are not stored with the messages), kept up
    to date with :meth:`use_numbers`. ``on_result("sent" | "failed")`` counts attempts."""

    name = "sms"

    def __init__(self, provider: SmsProvider, numbers: Mapping[str, str] | None = None,
                 on_result: Callable[[str], None] = lambda result: None) -> None:
        self._provider = provider
        self._numbers = dict(numbers or {})
        self._on_result = on_result
        self._closed = asyncio.Event()
        self._failing = 0

    async def start(self, handler: InboundHandler) -> None:
        self._closed.clear()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def stop(self) -> None:
        self._closed.set()
        await self._provider.close()

    def use_numbers(self, numbers: Mapping[str, str]) -> None:
        self._numbers = dict(numbers)

    async def send(self, message: OutboundMessage) -> Sequence[str] | None:
        number = self._numbers.get(message.recipient)
        if number is None:  # no longer on the roster, or no pager number now
            self._on_result("failed")
            raise PermanentDeliveryError("no_number")
        try:
            await self._provider.send(number, message.text[:SMS_LIMIT])
        except DeliveryError:
            self._failing += 1
            self._on_result("failed")
            raise
        self._failing = 0
        self._on_result("sent")
        return None  # a text message cannot be taken back

    def healthy(self) -> bool:
        return self._failing < 3
