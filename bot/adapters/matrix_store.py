"""The Matrix channel's own files beside nio's key store (credentials, rooms, the sync token):
small JSON or text files, written atomically and readable only by the bot."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class StateFiles:
    """Files in one directory (the channel's store)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def load_json(self, name: str) -> dict[str, str]:
        path = self.directory / name
        if not path.exists():
            return {}
        loaded: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return loaded

    def save_json(self, name: str, data: dict[str, Any]) -> None:
        self.write_atomic(name, json.dumps(data))

    def write_atomic(self, name: str, content: str) -> None:
        path = self.directory / name
        temporary = path.with_suffix(".tmp")
        temporary.write_text(content, encoding="utf-8")
        os.chmod(temporary, 0o600)
        temporary.replace(path)
