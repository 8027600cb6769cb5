"""`python run_bot.py` as a child process of an async test, with only WEERBAAR_* settings."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def both_channels(telegram_token: str, telegram_url: str, homeserver: str, bot_id: str,
                  **extra: str) -> dict[str, str]:
    """The settings of a bot on Telegram (the local Bot API server) and Matrix at once, the
    flood limit off (test people type faster than anyone)."""
    return {"WEERBAAR_TELEGRAM_TOKEN": telegram_token,
            "WEERBAAR_TELEGRAM_BASE_URL": telegram_url,
            "WEERBAAR_TELEGRAM_POLL_TIMEOUT_SECONDS": "1",
            "WEERBAAR_MATRIX_HOMESERVER": homeserver, "WEERBAAR_MATRIX_USER_ID": bot_id,
            "WEERBAAR_MATRIX_PASSWORD": "bot-pw", "WEERBAAR_CHANNELS": "telegram,matrix",
            "WEERBAAR_FLOOD_LIMIT": "", **extra}


def experts_file(path: Path, anna: str, carla: str) -> Path:
    """Anna (legal help, on call) and Carla (coordinator) at these addresses
    ("matrix:@anna:localhost", "telegram:602")."""
    path.write_text(yaml.safe_dump({
        "experts": [
            {"id": "anna", "name": "Anna de Vries", "address": anna,
             "specialties": ["rechtshulp"]},
            {"id": "carla", "name": "Carla Smit", "address": carla, "coordinator": True},
        ],
        "on_call": {"shifts": [{"specialty": "rechtshulp", "experts": ["anna"]}]},
    }), "utf-8")
    return path


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
