"""python-telegram-bot's errors as the engine's delivery errors: what to retry, when, and what
never to try again."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

import httpx
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channel import DeliveryError, PermanentDeliveryError

GONE = ("chat not found", "user is deactivated", "bot was blocked", "bot was kicked")
"""What a refused request says when the chat is gone for good."""


@contextlib.contextmanager
def mapped_errors(*, keep_bad_request: bool = False) -> Iterator[None]:
    """python-telegram-bot's errors as the engine's delivery errors (``keep_bad_request``: a
    refused request stays a ``BadRequest``, for the caller to tell which one it was)."""
    try:
        yield
    except RetryAfter as exc:
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        raise DeliveryError("rate_limited", retry_after=seconds) from exc
    except Forbidden as exc:
        raise PermanentDeliveryError("forbidden") from exc
    except BadRequest as exc:
        if any(reason in exc.message.lower() for reason in GONE):
            raise PermanentDeliveryError("chat_gone") from exc
        if keep_bad_request:
            raise
        raise DeliveryError("bad_request") from exc
    except TimedOut as exc:
        raise DeliveryError("TimedOut") from exc
    except NetworkError as exc:
        # An error status (500, 502, ...) means the Bot API answered; a broken connection
        # comes with the HTTP library's error as its cause.
        answered = not isinstance(exc.__cause__, httpx.HTTPError) \
            and not str(exc).startswith("Unknown error in HTTP implementation")
        raise DeliveryError(type(exc).__name__, answered=answered) from exc
