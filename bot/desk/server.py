"""Running the desk inside the bot's own event loop with uvicorn. uvicorn's server would take
over SIGINT and SIGTERM; the bot handles those itself, so the desk's server does not."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator

import uvicorn
from starlette.applications import Starlette

log = logging.getLogger(__name__)


class DeskStartError(Exception):
    """The desk cannot start; the message says why, for the operator."""


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class DeskServer:
    def __init__(self, app: Starlette, listen: str, port: int) -> None:
        self._server = _Server(uvicorn.Config(app, host=listen, port=port, log_config=None,
                                              access_log=False, lifespan="off",
                                              server_header=False))
        self._task: asyncio.Task[None] | None = None
        self._listen, self._port = listen, port

    async def start(self) -> None:
        """Bind first, so a taken port is a clear error here (uvicorn would exit the process)."""
        try:
            sock = socket.create_server((self._listen, self._port), reuse_port=False)
        except OSError as exc:
            raise DeskStartError(f"the web desk cannot listen on {self._listen}:{self._port}: "
                                 f"{exc.strerror} (WEERBAAR_DESK_PORT)") from None
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]),
                                         name="weerbaar-desk")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # the error that stopped it (port taken, ...)
                raise RuntimeError("the web desk did not start")
            await asyncio.sleep(0.02)
        log.info("desk.listening address=%s port=%d", self._listen, self._port)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(Exception):
            await self._task
