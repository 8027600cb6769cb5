"""A typed text as words: normalised, stemmed, and matched with a letter or two off."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import simplemma
import snowballstemmer
from rapidfuzz.distance import OSA

from flows.text import normalize

_DUTCH = snowballstemmer.stemmer("dutch")
_ENGLISH = snowballstemmer.stemmer("english")
_RUNS = re.compile(r"([^\W\d_])\1+")  # letters only: "112" is not "12"
_ONLY_AS_TYPED = 2
"""Signal words this short are matched as typed only, not by their lemmas."""
MAX_WORDS = 400
"""Of a very long text only this many words are looked at closely (the rest as a whole)."""


def collapse(word: str) -> str:
    """Letters doubled in stress ("hellllp", "deurrr") counted once."""
    return _RUNS.sub(r"\1", word)


MIN_STEMMED = 5
"""Shorter words are compared as typed only: "help" is not "helpen" (to help)."""
MIN_STEM = 4


@lru_cache(maxsize=65_536)
def forms(word: str) -> frozenset[str]:
    """The ways to compare a word: as typed, without doubled letters, and its stems."""
    return typed_forms(word) | stems(word)


@lru_cache(maxsize=65_536)
def typed_forms(word: str) -> frozenset[str]:
    """The word as typed, without doubled letters, and its dictionary forms."""
    folded = collapse(word)
    return frozenset({word, folded, *lemmas(word), *lemmas(folded)})


@lru_cache(maxsize=65_536)
def stems(word: str) -> frozenset[str]:
    """Its snowball stems (Dutch and English), for words long enough to have one."""
    if len(word) < MIN_STEMMED:
        return frozenset()
    folded = collapse(word)
    found = {_DUTCH.stemWord(word), _ENGLISH.stemWord(word),
             _DUTCH.stemWord(folded), _ENGLISH.stemWord(folded)}
    # a stem of three letters says little: "gewoon" (just) and "gewond" (hurt) are both "won"
    return frozenset(stem for stem in found if len(stem) >= MIN_STEM)


def lemmas(word: str) -> set[str]:
    """The dictionary forms of a word, Dutch and English: "ingebroken" is "inbreken", "sloeg"
    is "slaan", "shots" is "shot" (simplemma; a separable verb's "op_sluiten" also as
    "opsluiten")."""
    found: set[str] = set()
    for language in ("nl", "en"):
        lemma = simplemma.lemmatize(word, lang=language).casefold()
        # a lemma much shorter than the word is the other language's guess ("heeft" "he")
        if len(lemma) >= max(3, len(word) // 2) or lemma == word:
            found.update((lemma, lemma.replace("_", "")))
    return found


COMMON = 3.5
"""A typed word this frequent (wordfreq's Zipf scale, Dutch or English: "doing" 5.6, "stop"
5.5, "veilig" 5.1) is that word, never another with a letter off ("doing" is not "doxing")."""


@lru_cache(maxsize=65_536)
def zipf(word: str) -> float:
    """How common a word is in Dutch or English, whichever is higher (wordfreq's Zipf scale:
    0 unknown, 3 once in a million words, 6 once in a thousand)."""
    from wordfreq import zipf_frequency  # late: its word lists load on first use

    return max(zipf_frequency(word, "nl"), zipf_frequency(word, "en"))


def is_common(word: str) -> bool:
    """Whether a typed word is a common Dutch or English word as it stands (wordfreq)."""
    return zipf(word) >= COMMON


def allowed_typos(length: int) -> int:
    """How many letters may be off: none in words of three letters (too many real words are
    one letter from another), one from four letters, two from ten."""
    return 0 if length < 4 else 1 if length < 10 else 2


def close_enough(token: str, word: str) -> bool:
    """A letter or two off, as people type in a hurry. In words under eight letters only a
    letter left out, added or swapped with its neighbour counts, not one changed ("slaap" is
    not "slaan")."""
    limit = min(allowed_typos(len(word)), allowed_typos(max(len(token), len(word))))
    if not limit or abs(len(word) - len(token)) > limit or word[0] != token[0]:
        return False
    if OSA.distance(token, word, score_cutoff=limit) > limit:
        return False
    return len(word) >= 8 or len(word) != len(token) or sorted(word) == sorted(token)


class Vocabulary:
    """The words of a list of phrases, and which of them each typed word is (one typed word
    can be several: "rammen" is "ram" and "rammen")."""

    def __init__(self, words: Iterable[str], ordinary: Iterable[str] = (),
                 as_typed: Iterable[str] = ()) -> None:
        self.words = frozenset(w for w in words if w)
        self._as_typed = frozenset(as_typed)
        """Ordinary words that meet a signal word in another form too ("woon" and "woning" are
        both "wonen", "geholpen" is "help"): heard only as typed, as themselves."""
        self._ordinary = frozenset(ordinary) - self.words
        """Words people use in ordinary answers ("vermoeden"): never taken for a signal word
        with a letter off ("vermoorden")."""
        self._by_form: dict[str, set[str]] = {}
        for word in self.words:
            if word.endswith("*"):
                continue
            # a word of two letters only as typed: the lemmatiser takes "he" for Dutch
            # "hebben", and then "heb" would be "he"
            for form in forms(word) if len(word) > _ONLY_AS_TYPED else {word}:
                self._by_form.setdefault(form, set()).add(word)
        self._prefixes = tuple(sorted(w[:-1] for w in self.words if w.endswith("*")))
        self._fuzzy = [w for w in self.words if not w.endswith("*") and allowed_typos(len(w))]

    @lru_cache(maxsize=65_536)  # noqa: B019 (one vocabulary per flow set, kept for good)
    def matches(self, token: str) -> frozenset[str]:
        if token in self._as_typed:
            return frozenset({token} & self.words)
        found: set[str] = set()
        typed = typed_forms(token)
        for form in typed | stems(token):
            words = self._by_form.get(form, set())
            # a stem of the typed word meets only words long enough to have stems too, and
            # that begin as it does: Dutch stems drop "ge", and "gewoon" is not "woning"
            found |= words if form in typed else {w for w in words if len(w) >= MIN_STEMMED
                                                  and w[0] == token[0]}
        found.update(p + "*" for p in self._prefixes if token.startswith(p))
        # a word typed as one of the signal words, or as a common word, is that word, not
        # another with a letter off: "stop" is not "strop" (a noose)
        if len(token) >= 4 and token not in self._ordinary and token not in self.words \
                and not is_common(token):
            found.update(word for word in self._fuzzy if close_enough(token, word))
        return frozenset(found)


@dataclass(frozen=True)
class Words:
    """A text as the words it holds, and all of it without spaces (for "hijstaatvoordedeur").
    ``spelling`` writes chat spellings out ("nie" is "niet", "im" is "i am"). ``readings``:
    for each token, the words it may have been meant as besides itself (a typo corrected, see
    :mod:`bot.understanding.spelling`); empty when nobody corrected the text."""

    tokens: tuple[str, ...]
    squashed: str
    readings: tuple[tuple[str, ...], ...] = ()

    def forms(self, at: int) -> tuple[str, ...]:
        """The token at ``at`` and the words it may have been meant as."""
        return (self.tokens[at], *self.readings[at]) if self.readings else (self.tokens[at],)

    @classmethod
    def of(cls, text: str, spelling: dict[str, str] | None = None) -> Words:
        normalized = normalize(text.replace("'", "")).replace("/", " ").replace("?", " ")
        tokens = normalized.split()[:MAX_WORDS]
        if spelling:
            tokens = [part for token in tokens for part in spelling.get(token, token).split()]
        return cls(tuple(tokens), collapse(normalized.replace(" ", "")))
