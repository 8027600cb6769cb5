"""The bot as a separate process on the console, driven line by line.

Tests wait for what the bot prints instead of sleeping a fixed time, so a slow or busy machine
makes them slower, never wrong.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def console_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEERBAAR_")}
    env.update(WEERBAAR_DATA_DIR=str(data_dir), **extra)
    return env


class ConsoleBot:
    """`python run_bot.py` with a pipe in and everything it prints collected."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "run_bot.py"], cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
            env=console_env(data_dir, **env))
        self._output: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self._output.append(line)

    @property
    def output(self) -> str:
        with self._lock:
            return "".join(self._output)

    def type(self, *lines: str) -> None:
        assert self.process.stdin is not None
        for line in lines:
            self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_for(self, text: str, within: float = 30.0, count: int = 1) -> None:
        deadline = time.monotonic() + within
        while self.output.count(text) < count:
            if time.monotonic() > deadline or self.process.poll() is not None:
                time.sleep(0.2)  # whatever the reader still had in the pipe
                assert self.output.count(text) >= count, f"never printed: {text!r}"
            time.sleep(0.05)

    def finish(self, within: float = 30.0) -> int:
        """Close the input (end of the conversation) and wait for a clean exit."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        code = self.process.wait(timeout=within)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        """SIGKILL: the process dies with no chance to clean up."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._reader.join(timeout=5)
