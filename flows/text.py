"""Normalising what a person typed, so matching ignores case, accents and punctuation."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^\w/?]+")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower case, no accents, punctuation to spaces, single spaces.

    A leading ``/`` (a command) and ``?`` are kept; ``_`` counts as a separator.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    lowered = stripped.casefold().replace("_", " ")
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", lowered)).strip()
