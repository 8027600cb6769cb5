"""A word typed wrong, read as the word meant: "tinking" is also "thinking", "sptor" also "spoor",
"forwhen" is "for when".

Only a word that is neither one the bot knows (its ``lexicon``: the signal words, the options'
words, the words of dates and of the model's examples) nor a common Dutch or English word (wordfreq)
is corrected: to the nearest words of the lexicon that begin with its letter (a letter or two
left out, added, changed or swapped), the most common first. Words run together are split
where all parts are known words (the likeliest cut by wordfreq's frequencies). A correction
only adds a reading: the word as typed still counts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Sequence
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.understanding.words import COMMON, Words, allowed_typos, collapse

MIN_CORRECTED = 4
"""Shorter words are too close to too many others to be corrected, but for a word of three
letters that is a longer one with a letter left out ("wnt" for "want")."""
MIN_SPLIT, MAX_SPLIT = 5, 40
"""A word this long may be several run together ("tedoen"); a longer one is not split."""
SHORT_PART = 5.0
"""A part of two letters must be this common (Zipf): "te", "to", "en", not "fi"."""
LETTER_PART = 6.3
"""A part of one letter must be this common: "i", "a", "u", not "b" or "s"."""
FUNCTION_WORD = 6.0
"""One part of a split must be this common (Zipf), a word like "te", "de", "met", "for",
"when": content words run together are a Dutch compound ("huisadres"), not a slip; unless all
its parts are English words, or words the bot knows ("gewoonverdwijnen")."""
CANDIDATES = 2
"""Readings kept for one typed word, at the nearest distance, most frequent first."""
LANGUAGES = ("nl", "en")
_LETTERS = re.compile(r"[^\W\d_]+")
MAX_PART = 24
"""The longest word looked for inside words run together."""
UNSEEN = 1e-9
"""The share given to a word of the lexicon that wordfreq does not know."""


class Speller:
    def __init__(self, lexicon: Iterable[str]) -> None:
        from wordfreq import get_frequency_dict

        self.lexicon = frozenset(w for w in lexicon if w.isalpha())
        # as wordfreq itself asks for them, so that its cache serves the tables it has loaded
        self._tables = [get_frequency_dict(language, "best") for language in LANGUAGES]
        # the first letter is rarely the slip, as in the signal words' matching ("kraam", a
        # market stall, is not "raam", a window): a word is compared with those of its letter
        self._by_first: dict[str, list[str]] = {}
        for word in sorted(self.lexicon, key=lambda w: (-self._share(w), w)):  # same each run
            self._by_first.setdefault(word[0], []).append(word)

    def _share(self, word: str) -> float:
        """How often the word is written, Dutch or English, as a share of all words."""
        return max(table.get(word, 0.0) for table in self._tables)

    def _zipf(self, word: str) -> float:
        """As :func:`~bot.understanding.words.zipf`, from the tables at hand (no word is
        looked up one by one, which costs more when a long word is cut every way)."""
        share = self._share(word)
        return math.log10(share) + 9 if share else 0.0

    def known(self, word: str) -> bool:
        return word in self.lexicon or self._zipf(word) >= COMMON

    @lru_cache(maxsize=65_536)  # noqa: B019 (one speller per flow set, kept for good)
    def readings(self, token: str) -> tuple[str, ...]:
        """The words a typed word may have been meant as, besides itself (none if it is a
        word the bot or the languages know)."""
        if len(token) < MIN_CORRECTED - 1 or not token.isalpha() or self.known(token):
            return ()
        folded = collapse(token)
        if folded != token and self.known(folded):  # "hellllp"
            return (folded,)
        found = sorted(_slips(token, self._by_first.get(token[0], ())).items(),
                       key=lambda item: item[1])
        return tuple(word for word, (distance, _) in found
                     if distance == found[0][1][0])[:CANDIDATES]

    @lru_cache(maxsize=65_536)  # noqa: B019
    def split(self, token: str, compounds: bool = False) -> tuple[str, ...] | None:
        """Known words typed as one ("erstaatiemandvoordedeur"): of the ways to cut it into
        known words, the likeliest (the highest product of how common each part is); None if
        the word is known, or no cut gives known words with one like "de" or "to" among them.
        With ``compounds``, where no compound can be meant (a date: "komendedinsdag"), a cut
        into content words counts too."""
        if not MIN_SPLIT <= len(token) <= MAX_SPLIT or not token.isalpha() \
                or self.known(token) or self.known(collapse(token)):
            return None
        # best[end]: the likeliest cut of token[:end], as (log-likelihood, parts)
        best: list[tuple[float, tuple[str, ...]] | None] = [(0.0, ())] + [None] * len(token)
        for end in range(1, len(token) + 1):
            for start in range(max(0, end - MAX_PART), end):
                before, part = best[start], token[start:end]
                if before is None or not self._part(part):
                    continue
                score = before[0] + math.log10(max(self._share(part), UNSEEN))
                current = best[end]
                if current is None or score > current[0]:
                    best[end] = (score, (*before[1], part))
        found = best[-1]
        if found is None or len(found[1]) < 2:
            return None
        parts = found[1]
        if compounds or max(map(self._zipf, parts)) >= FUNCTION_WORD \
                or all(map(self._english, parts)) or self.lexicon.issuperset(parts):
            return parts
        return None

    def _english(self, word: str) -> bool:
        """More often written in English than in Dutch: English writes its compounds apart
        ("goodbye letter"), so English words run together are a missing space."""
        dutch, english = (table.get(word, 0.0) for table in self._tables)
        return english > dutch

    def _part(self, part: str) -> bool:
        if len(part) > 2:
            return self.known(part)
        return self._zipf(part) >= (SHORT_PART if len(part) == 2 else LETTER_PART)

    def read(self, words: Words) -> Words:
        """The text with words run together split, and each word's other readings."""
        tokens: list[str] = []
        for token in words.tokens:  # a slip of a letter is likelier than a missing space
            tokens.extend((not self.readings(token) and self.split(token)) or (token,))
        readings = tuple(self.readings(token) for token in tokens)
        if not any(readings) and len(tokens) == len(words.tokens):
            return words
        return Words(tuple(tokens), words.squashed, readings)

    def as_meant(self, text: str, compounds: bool = False,
                 expected: Collection[str] = ()) -> str:
        """The text with words run together split and each slip read as its likeliest word,
        its numbers and signs as typed ("om 19.30 uur"): how an answer to a question is read
        before it is read as typed. ``expected``: the words the question expects (an option's,
        a date's), which go before more common ones ("wefk" at a date is "week", not "werk");
        ``compounds``: as for :meth:`split`."""
        def meant(match: re.Match[str]) -> str:
            token = match.group().casefold()
            readings = self.readings(token)
            fitting = self._nearest(token, expected) if readings else None
            if fitting:
                return fitting
            parts = self.split(token, compounds)
            if parts and (not readings or any(part in expected for part in parts)):
                return " ".join(parts)  # "intwo" at a date is "in two", not "into"
            return readings[0] if readings else match.group()
        return _LETTERS.sub(meant, text)

    @staticmethod
    def _nearest(token: str, words: Collection[str]) -> str | None:
        """Of ``words``, the nearest to a typed word with a slip, with its first letter."""
        found = _slips(token, sorted(w for w in words if w[:1] == token[:1]))
        return min(found, key=found.__getitem__) if found else None


def _slips(token: str, words: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Of ``words``, those a typed word may be with a slip, each with its distance and its
    index in ``words`` (list them most common first). A word is looked for as typed ("pilldn"
    is "pillen") and with doubled letters folded ("doderdagg" is "doderdag", a letter from
    "donderdag"); a word of three letters may be one of four with a letter left out ("wnt" is
    "want")."""
    nearest: dict[str, tuple[int, int]] = {}
    if len(token) < MIN_CORRECTED:
        words = [w for w in words if len(w) == len(token) + 1]
    for typed in dict.fromkeys((token, collapse(token))):
        cutoff = 1 if typed == token and len(token) < MIN_CORRECTED else allowed_typos(len(typed))
        if not cutoff:
            continue
        for word, distance, index in process.extract(typed, words, scorer=OSA.distance,
                                                     limit=None, score_cutoff=cutoff):
            nearest[word] = min(nearest.get(word, (distance, index)), (distance, index))
    return nearest
