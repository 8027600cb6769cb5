"""The interface every chat platform implements (console, Telegram, Matrix, ...).

An adapter turns platform updates into :class:`InboundEvent` and hands them to the
``handler`` it was started with; it delivers :class:`OutboundMessage` when asked. It knows
nothing of flows or the database.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol, runtime_checkable

from bot.events import Attachment, ChatItem, InboundEvent, OutboundMessage


class InboundHandler(Protocol):
    """What a channel hands events to (the engine). Returns when the replies were delivered;
    ``on_committed(stored)`` is called earlier, as soon as the event is stored or needs no
    storing (a duplicate, a flood) with ``True``, so a channel can confirm it to its platform
    without waiting for delivery; with ``False`` when it could not be stored, so the channel
    does not confirm it and gets it again later."""

    def __call__(self, event: InboundEvent, on_committed: Callable[[bool], None] | None = None,
                 ) -> Coroutine[Any, Any, None]: ...


class DeliveryError(Exception):
    """Sending failed for a reason that may pass (network, rate limit): try again later."""

    def __init__(self, reason: str, retry_after: float | None = None,
                 answered: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.answered = answered
        """The platform answered (with an error): it is up, so trying again soon is right."""


class PermanentDeliveryError(DeliveryError):
    """Sending can never succeed (the person blocked the bot, the chat is gone)."""


class ChannelStartError(Exception):
    """A channel cannot start (its platform refused the credentials, ...). The message says
    what happened in words an operator can act on, never the secret itself."""


@runtime_checkable
class Channel(Protocol):
    """A chat platform.

    ``start`` begins receiving and returns once the channel is ready; ``wait_closed`` returns
    when the channel has nothing more to receive (the console at end of input; network
    channels when stopped); ``send`` delivers one message or raises :class:`DeliveryError`,
    and returns the platform's ids of what it posted (none where nothing can be removed
    later); ``healthy`` says whether it is receiving as it should (for ``/healthz``).
    """

    name: str

    async def start(self, handler: InboundHandler) -> None: ...

    async def wait_closed(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, message: OutboundMessage) -> Sequence[str] | None: ...

    def healthy(self) -> bool: ...


@runtime_checkable
class ChatWiper(Protocol):
    """A channel that can remove messages from a person's chat. ``wipe`` removes what it may
    of ``items`` and returns how many are still there (too old for the platform, or not the
    bot's to remove); raises :class:`DeliveryError` when it may work later."""

    async def wipe(self, recipient: str, items: Sequence[ChatItem]) -> int: ...


@runtime_checkable
class FileSource(Protocol):
    """A channel that can hand out the bytes of a file it received, so the file can go out on
    another channel. ``fetch`` raises :class:`DeliveryError` when it may work later and
    :class:`PermanentDeliveryError` when it never will (gone, too large)."""

    async def fetch(self, attachment: Attachment) -> bytes: ...


def split_text(text: str, limit: int) -> list[str]:
    """Cut a text longer than a platform takes into pieces, at paragraph, line or word
    ends where one is near."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n\n", 0, limit), text.rfind("\n", 0, limit),
                  text.rfind(" ", 0, limit))
        if cut <= limit // 2:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    pieces.append(text)
    return pieces
