"""Understanding a typed answer: a command word, an option number, or an option's word."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from flows.schema import Option, System
from flows.text import normalize

_NUMBER_LIST = re.compile(r"^\d+(?:\s*(?:,|en|and|&|\s)\s*\d+)*$")
_MIN_CONTAINED_WORD = 3


@dataclass(frozen=True)
class Choice:
    """An option as offered in a step, with every way to name it."""

    id: str
    names: frozenset[str]

    @classmethod
    def of(cls, option: Option) -> Choice:
        names = {normalize(w) for w in (*option.words, option.label.nl, option.label.en)}
        return cls(option.id, frozenset(n for n in names if n))


class CommandWords:
    def __init__(self, system: System) -> None:
        self._by_word = {
            normalize(word): command
            for command, words in system.commands.items()
            for word in words
        }

    def match(self, text: str) -> str | None:
        """The command a whole message names; ``/stop@SomeBot`` counts as ``/stop``."""
        key = normalize(text.split("@", 1)[0] if text.startswith("/") else text)
        command = self._by_word.get(key)
        if command is None and key.startswith("/"):
            command = self._by_word.get(key[1:])
        return command


def match_choices(text: str, choices: Sequence[Choice], *, multi: bool = False,
                  exact_only: bool = False) -> list[str]:
    """The option ids a typed answer names, in the offered order; empty if unclear.

    Numbers ("2", "1, 3") and whole names always count. Unless ``exact_only``, a name
    inside a longer answer counts too ("ik ben wethouder", "Nee hoor"), but only when it
    points to one option, or several for a ``multi`` step; short names ("ja") only as the
    first word.
    """
    key = normalize(text)
    if not key:
        return []
    if _NUMBER_LIST.match(key):
        numbers = [int(n) for n in re.findall(r"\d+", key)]
        if all(1 <= n <= len(choices) for n in numbers) and (multi or len(numbers) == 1):
            return list(dict.fromkeys(choices[n - 1].id for n in numbers))
        return []
    exact = [c.id for c in choices if key in c.names]
    if exact:
        return exact[:1]
    if exact_only:
        return []
    padded = f" {key} "
    first_word = key.split(" ", 1)[0]
    found = [
        c.id for c in choices
        if first_word in c.names
        or any(len(n) >= _MIN_CONTAINED_WORD and f" {n} " in padded for n in c.names)
    ]
    if len(found) == 1 or (multi and found):
        return found
    return []
