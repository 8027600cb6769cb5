"""Recognising danger now, or a crisis, in what a person wrote."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from flows.schema import Signals
from flows.text import normalize


def _pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    parts = []
    for phrase in phrases:
        wildcard = phrase.endswith("*")
        words = normalize(phrase.rstrip("*"))
        if not words:
            continue
        parts.append(re.escape(words) + (r"\w*" if wildcard else ""))
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(sorted(parts, key=len, reverse=True)) + r")(?!\w)")


@dataclass(frozen=True)
class Alarm:
    danger: bool
    crisis: bool

    def __bool__(self) -> bool:
        return self.danger or self.crisis


class SignalDetector:
    def __init__(self, signals: Signals) -> None:
        self._danger = _pattern(signals.danger)
        self._crisis = _pattern(signals.crisis)
        self._not_danger = _pattern(signals.not_danger)

    def check(self, text: str) -> Alarm:
        cleaned = normalize(text)
        if self._not_danger is not None:
            cleaned = self._not_danger.sub(" ", cleaned)
        return Alarm(
            danger=bool(self._danger and self._danger.search(cleaned)),
            crisis=bool(self._crisis and self._crisis.search(cleaned)),
        )
