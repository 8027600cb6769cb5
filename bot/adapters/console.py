"""The console channel: one person chatting in a terminal, or a script piping lines in.

Each line is one message. Options are shown numbered; the person types a number or a word.
At the end of input the channel closes, after the last replies were printed.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import TextIO

from bot.channel import InboundHandler, PermanentDeliveryError
from bot.events import InboundEvent, OutboundMessage

PROMPT = "> "
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
        lines += [f"  {number}. {option.label}"
                  for number, option in enumerate(message.options, start=1)]
        try:
            self._stdout.write("\n".join(lines) + "\n\n")
            self._stdout.flush()
        except (BrokenPipeError, ValueError) as exc:  # the reader went away, or stdout closed
            raise PermanentDeliveryError("output_closed") from exc

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
                event = InboundEvent(channel=self.name, sender=self.user,
                                     message_id=uuid.uuid4().hex, text=line.rstrip("\r\n"))
                await handler(event)
        finally:
            self._closed.set()
