"""What the danger and crisis model sees of a text: its words, their stems and dictionary
forms, pairs of words in a row, and pieces of three to five letters of each word.

The letter pieces let the model hear a word it learned in a form it did not see ("bonkt",
"gebonkt", "bonkkt"); the stems and dictionary forms do the same for inflection. Training
(:mod:`bot.understanding.train`) and the bot use this one function, so they see the same.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise

from bot.understanding.words import Words, collapse, lemmas, stems

VERSION = 3
"""Changes whenever what :func:`features` returns changes; a model trained on another version
is refused."""
PIECES = (3, 4, 5)


@lru_cache(maxsize=65_536)
def word_features(token: str) -> frozenset[str]:
    """The features of one typed word."""
    folded = collapse(token)
    found = {f"w:{folded}", *(f"s:{form}" for form in stems(token) | lemmas(folded))}
    padded = f" {folded} "
    for size in PIECES:
        found.update(f"c:{padded[i:i + size]}" for i in range(len(padded) - size + 1))
    return frozenset(found)


def features(words: Words) -> set[str]:
    """The features of a text, as :class:`~bot.understanding.words.Words` holds it: of each
    word as typed and as read when it was corrected (a pair of words in a row as read)."""
    found: set[str] = set()
    for at in range(len(words.tokens)):
        for form in words.forms(at):
            found |= word_features(form)
    read = [collapse(words.forms(at)[1 if words.readings and words.readings[at] else 0])
            for at in range(len(words.tokens))]
    found.update(f"b:{first}_{second}" for first, second in pairwise(read))
    return found
