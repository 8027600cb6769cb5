"""Understanding a typed answer: a command word, an option number, or an option's word."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.understanding.words import MIN_STEMMED, close_enough, forms
from flows.schema import Option, System
from flows.text import normalize

_NUMBER_LIST = re.compile(r"^\d+(?:\s*(?:,|en|and|&|\s)\s*\d+)*$")
_MIN_CONTAINED_WORD = 3
_MIN_COMPOUND_PART = 3  # letters before a name in a compound: "gemeenteambtenaar"


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
    def __init__(self, system: System, extra: Mapping[str, Iterable[str]] | None = None,
                 ) -> None:
        """``extra``: more words per command, from the settings (the quick exit word)."""
        self._by_word = {
            normalize(word): command
            for command, words in system.commands.items()
            for word in words
        }
        for command, words in (extra or {}).items():
            for word in words:
                if normalize(word) in self._by_word:
                    raise ValueError(f"{word!r} is already the word of a command")
                self._by_word[normalize(word)] = command

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
    first word; and failing that, a word of the answer that is a name with a letter or two off
    or in another form ("wethoudr", "raadsleden").
    """
    key = normalize(text)
    if _NUMBER_LIST.match(key):
        numbers = [int(n) for n in re.findall(r"\d+", key)]
        if all(1 <= n <= len(choices) for n in numbers) and (multi or len(numbers) == 1):
            return list(dict.fromkeys(choices[n - 1].id for n in numbers))
        return []
    found = candidates(text, choices, exact_only=exact_only)
    if len(found) == 1 or (multi and found):
        return found
    return []


def candidates(text: str, choices: Sequence[Choice], *, exact_only: bool = False) -> list[str]:
    """Every option a typed answer (not a number) may name, in the offered order; more than
    one means: ask which."""
    key = normalize(text)
    if not key or _NUMBER_LIST.match(key):
        return []
    exact = [c.id for c in choices if key in c.names]
    if exact:
        return exact[:1]
    if exact_only:
        return []
    tokens = key.split()
    fits: dict[str, int] = {}  # option -> words of the longest of its names found
    for choice in choices:
        for name in choice.names:
            words = name.split()
            if (name == tokens[0] or (len(name) >= _MIN_CONTAINED_WORD
                                      and _contains(tokens, words, _same))):
                fits[choice.id] = max(fits.get(choice.id, 0), len(words))
    if not fits:
        # failing that, the names' words in other forms, with a letter or two off, or as
        # the last part of a compound: "stonden bij huis", "wethoudr", "gemeenteambtenaar"
        for choice in choices:
            for name in choice.names:
                words = name.split()
                if _contains(tokens, words, _alike):
                    fits[choice.id] = max(fits.get(choice.id, 0), len(words))
    if not fits:
        return []
    longest = max(fits.values())
    best = [i for i, n in fits.items() if n == longest]
    # "mijn adres staat online": "adres online" says more than "online" alone
    return best if len(best) == 1 and longest > 1 else list(fits)


def _contains(tokens: list[str], words: list[str],
              same: Callable[[str, str], bool]) -> bool:
    """``words`` in ``tokens`` in order, with at most one other word between two of them."""
    for start, token in enumerate(tokens):
        if not same(token, words[0]):
            continue
        position = start
        for word in words[1:]:
            for step in (1, 2):
                if position + step < len(tokens) and same(tokens[position + step], word):
                    position += step
                    break
            else:
                break
        else:
            return True
    return False


def _same(token: str, word: str) -> bool:
    return token == word


def _alike(token: str, word: str) -> bool:
    """A typed word that is this word in another form, with a letter or two off, or a
    compound that ends in it (Dutch puts the head of a compound last)."""
    if token == word:
        return True
    if len(word) < MIN_STEMMED:
        return False
    if len(token) >= len(word) + _MIN_COMPOUND_PART and token.endswith(word):
        return True
    return close_enough(token, word) or bool(forms(token) & forms(word))
