"""Understanding a typed answer: a command word, an option number, or an option's word."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.understanding.words import MIN_STEMMED, close_enough, forms, is_common
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
                  exact_only: bool = False, as_typed: bool = False) -> list[str]:
    """The option ids a typed answer names, in the offered order; empty if unclear.

    Numbers ("2", "1, 3") and whole names always count. Unless ``exact_only``, a name
    inside a longer answer counts too ("ik ben wethouder", "Nee hoor"), but only when it
    points to one option, or several for a ``multi`` step; short names ("ja") only as the
    first word; and failing that (unless ``as_typed``), a word of the answer that is a name with
    a letter or two off or in another form ("wethoudr", "raadsleden").
    """
    key = normalize(text)
    if _NUMBER_LIST.match(key):
        numbers = [int(n) for n in re.findall(r"\d+", key)]
        if all(1 <= n <= len(choices) for n in numbers) and (multi or len(numbers) == 1):
            return list(dict.fromkeys(choices[n - 1].id for n in numbers))
        return []
    found = candidates(text, choices, exact_only=exact_only, as_typed=as_typed)
    if len(found) == 1 or (multi and found):
        return found
    return []


def candidates(text: str, choices: Sequence[Choice], *, exact_only: bool = False,
               as_typed: bool = False) -> list[str]:
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
    names = _names(tuple(choices))
    # first the names as typed; failing that, their words in other forms, with a letter or
    # two off, or as the last part of a compound: "stonden bij huis", "wethoudr",
    # "gemeenteambtenaar"
    fits = _fits(names, [{token} for token in tokens], whole=tokens[0])
    if not fits and not as_typed:
        fits = _fits(names, [names.alike(token) for token in tokens])
    if not fits:
        return []
    longest = max(fits.values())
    best = [i for i, n in fits.items() if n == longest]
    # "mijn adres staat online": "adres online" says more than "online" alone
    return best if len(best) == 1 and longest > 1 else list(fits)


@dataclass(frozen=True)
class _Names:
    """The offered options' names as words, and their longer words by form and by first
    letter, to find the words a typed word may be."""

    names: tuple[tuple[str, str, tuple[str, ...]], ...]  # option id, name, its words
    long_words: frozenset[str]
    by_form: dict[str, frozenset[str]]
    by_first: dict[str, tuple[str, ...]]

    def alike(self, token: str) -> set[str]:
        """The names' words this typed word may be: itself, the same word in another form or
        with a letter or two off, or the last part of a compound (Dutch puts the head of a
        compound last)."""
        found = {token}
        for form in forms(token):
            found |= self.by_form.get(form, frozenset())
        found.update(token[start:] for start in range(_MIN_COMPOUND_PART,
                                                      len(token) - MIN_STEMMED + 1)
                     if token[start:] in self.long_words)
        if not is_common(token):  # "doing" is not "doxing"
            found.update(w for w in self.by_first.get(token[:1], ())
                         if close_enough(token, w))
        return found


@lru_cache(maxsize=1024)
def _names(choices: tuple[Choice, ...]) -> _Names:
    names = tuple((c.id, name, tuple(name.split())) for c in choices for name in c.names)
    long_words = frozenset(w for _, _, words in names for w in words if len(w) >= MIN_STEMMED)
    by_form: dict[str, set[str]] = {}
    by_first: dict[str, list[str]] = {}
    for word in long_words:
        for form in forms(word):
            by_form.setdefault(form, set()).add(word)
        by_first.setdefault(word[0], []).append(word)
    return _Names(names, long_words, {f: frozenset(w) for f, w in by_form.items()},
                  {c: tuple(w) for c, w in by_first.items()})


def _fits(names: _Names, matches: list[set[str]], whole: str | None = None) -> dict[str, int]:
    """Option -> words of the longest of its names found in the typed words (each the set of
    words it may be). ``whole``: the first typed word, which names an option even when short
    ("ja")."""
    typed = set().union(*matches)
    fits: dict[str, int] = {}
    for option, name, words in names.names:
        if words[0] not in typed:
            continue
        if name == whole or (len(name) >= _MIN_CONTAINED_WORD and _contains(matches, words)):
            fits[option] = max(fits.get(option, 0), len(words))
    return fits


def _contains(matches: list[set[str]], words: tuple[str, ...]) -> bool:
    """``words`` in the typed words in order, with at most one other word between two of
    them."""
    for start, first in enumerate(matches):
        if words[0] not in first:
            continue
        position = start
        for word in words[1:]:
            for step in (1, 2):
                if position + step < len(matches) and word in matches[position + step]:
                    position += step
                    break
            else:
                break
        else:
            return True
    return False
