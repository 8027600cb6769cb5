"""Use a changed experts file without a restart: the running bot looks at the file every few
seconds, and at once on SIGHUP (``systemctl reload``). A file that does not load is not used:
the bot keeps the roster it has and says so in the log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from config.experts import Roster, RosterError

log = logging.getLogger(__name__)

Signature = tuple[int, int, int] | None


def file_signature(path: Path) -> Signature:
    """What changes when the file is written or replaced (None: it is not there)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


class RosterWatcher:
    def __init__(self, path: Path, load: Callable[[], Roster],
                 use: Callable[[Roster], Awaitable[None]], current: Roster,
                 interval_seconds: float) -> None:
        self._path = path
        self._load = load
        self._use = use
        self._current = current
        self._interval = interval_seconds or None
        self._asked = asyncio.Event()
        self._signature = file_signature(path)

    def request(self) -> None:
        """Load the file now (the SIGHUP handler)."""
        self._asked.set()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._asked.wait(), timeout=self._interval)
            asked = self._asked.is_set()
            self._asked.clear()
            signature = file_signature(self._path)
            if asked or signature != self._signature:
                self._signature = signature
                await self.reload()

    async def reload(self) -> bool:
        """Load the file and use it; returns whether the roster was replaced."""
        try:
            roster = self._load()
        except (RosterError, OSError) as exc:
            log.error("experts.reload_failed reason=%s; keeping the roster in use", exc)
            return False
        if not roster.experts and self._current.experts:
            log.error("experts.reload_refused reason=no experts in the file; keeping the "
                      "roster in use (to stop routing, restart without an experts file)")
            return False
        await self._use(roster)
        self._current = roster
        log.info("experts.reloaded count=%d", len(roster.experts))
        return True


class LiveRoster:
    """The roster the bot uses now, for the parts outside the engine (the pager's numbers, the
    web desk); :meth:`saved` takes one the desk just wrote to the file."""

    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self._listeners: list[Callable[[Roster], None]] = []
        self._reload: Callable[[], None] = lambda: None

    def __call__(self) -> Roster:
        return self.roster

    def on_change(self, listener: Callable[[Roster], None]) -> None:
        self._listeners.append(listener)

    def changed(self, roster: Roster) -> None:
        self.roster = roster
        for listener in self._listeners:
            listener(roster)

    def saved(self, roster: Roster) -> None:
        """The experts file was just written with ``roster``: use it now, and have the watcher
        read the file at once (so the engine takes it too)."""
        self.changed(roster)
        self._reload()

    def reload_with(self, reload: Callable[[], None]) -> None:
        self._reload = reload
