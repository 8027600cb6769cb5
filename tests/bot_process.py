"""`python run_bot.py` as a child process of an async test, with only WEERBAAR_* settings."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def start_bot(data_dir: Path, **env: str) -> asyncio.subprocess.Process:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WEERBAAR_")}
    environment.update(WEERBAAR_DATA_DIR=str(data_dir), **env)
    return await asyncio.create_subprocess_exec(
        sys.executable, "run_bot.py", cwd=ROOT, env=environment,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)


async def stop_bot(process: asyncio.subprocess.Process) -> tuple[int, str]:
    """SIGTERM, as systemd or `docker stop` would; the exit code and what it logged."""
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, stderr.decode()
