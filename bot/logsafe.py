"""Describing an error for the logs without what a person wrote.

An exception's message can hold anything: a database error lists the statement's parameters,
a ``KeyError`` the key, a decoding error a piece of the text. The logs get the exception's
type and where it was raised, which is what an operator needs to find the bug, never its
message.
"""

from __future__ import annotations

import traceback
from pathlib import Path

FRAMES = 4


def describe(exc: BaseException) -> str:
    """``ValueError at bot/turns.py:120 in _turn <- bot/conversation.py:88 in run``: the type
    and the innermost frames, for every exception in the chain."""
    parts = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)[-FRAMES:]
        where = " <- ".join(f"{_short(f.filename)}:{f.lineno} in {f.name}"
                            for f in reversed(frames))
        parts.append(f"{type(current).__name__}{' at ' + where if where else ''}")
        current = current.__cause__ or current.__context__
    return "; caused by ".join(parts)


def _short(filename: str) -> str:
    path = Path(filename)
    for marker in ("site-packages", "bot", "storage", "flows", "config"):
        if marker in path.parts:
            index = len(path.parts) - 1 - path.parts[::-1].index(marker)
            return "/".join(path.parts[index + (marker == "site-packages"):])
    return path.name
