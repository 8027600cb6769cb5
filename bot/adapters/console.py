"""The console channel: one person chatting in a terminal, or a script piping lines in.

Each line is one message. Options are shown numbered; the person types a number or a word.
At the end of input the channel closes, after the last replies were printed.

For trying routing on one terminal, a line ``@anna: text`` is sent as console user ``anna``
(an expert with the address ``console:anna``), and what the bot sends to anyone but the
console user is printed with ``[@anna]`` in front.
"""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from collections.abc import Sequence
from typing import TextIO

from bot.channel import InboundHandler, PermanentDeliveryError
from bot.events import ChatItem, InboundEvent, OutboundMessage

PROMPT = "> "
CLEAR_SCREEN = "\033[3J\033[H\033[2J"
"""Clear the scrollback, go home, clear the screen (xterm and most terminals)."""
_AS_OTHER = re.compile(r"^@([\w.-]{1,64}):\s?(.*)$", re.DOTALL)
HINT = ("Typ een bericht en druk op Enter. Stoppen: Ctrl+D.\n"
        "Type a message and press Enter. To quit: Ctrl+D.\n")


class ConsoleChannel:
    name = "console"

    def __init__(self, user: str = "console", stdin: TextIO | None = None,
                 stdout: TextIO | None = None) -> None:
        self.user = user
        self._stdin = stdin or sys.stdin
        self._stdout = stdout or sys.stdout
        self._interactive = self._stdin.isatty()
        self._reader: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()

    async def start(self, handler: InboundHandler) -> None:
        if self._interactive:
            self._stdout.write(HINT + "\n")
        self._reader = asyncio.create_task(self._read(handler), name="console-reader")

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def stop(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
        self._closed.set()

    def healthy(self) -> bool:
        return True

    async def send(self, message: OutboundMessage) -> None:
        lines = [message.text]
        if message.attachment is not None:
            a = message.attachment
            lines.append(f"[{a.kind}{': ' + a.name if a.name else ''}]")
        if message.recipient != self.user:
            lines[0] = f"[@{message.recipient}] {lines[0]}"
        lines += [f"  {number}. {option.label}"
                  for number, option in enumerate(message.options, start=1)]
        try:
            self._stdout.write("\n".join(lines) + "\n\n")
            self._stdout.flush()
        except (BrokenPipeError, ValueError) as exc:  # the reader went away, or stdout closed
            raise PermanentDeliveryError("output_closed") from exc

    async def wipe(self, recipient: str, items: Sequence[ChatItem]) -> int:
        """A terminal's screen and scrollback are cleared; what went through a pipe is out of
        reach (nothing printed has an id to remove)."""
        if self._stdout.isatty():
            self._stdout.write(CLEAR_SCREEN)
            self._stdout.flush()
        return 0

    async def _read(self, handler: InboundHandler) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                if self._interactive:
                    self._stdout.write(PROMPT)
                    self._stdout.flush()
                line = await loop.run_in_executor(None, self._stdin.readline)
                if not line:
                    break
                text, sender = line.rstrip("\r\n"), self.user
                if match := _AS_OTHER.match(text):
                    sender, text = match.group(1), match.group(2)
                event = InboundEvent(channel=self.name, sender=sender,
                                     message_id=uuid.uuid4().hex, text=text)
                await handler(event)
        finally:
            self._closed.set()
