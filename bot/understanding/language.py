"""Which language a person writes in, from a sentence (lingua, offline, Dutch or English).

Single words say little ("help", "hallo" and "ja" are both), so only a text of a few words
counts, and only when the detector is confident; else the platform's hint (the language of
the person's app) decides, and else the default.
"""

from __future__ import annotations

from functools import cache
from typing import Any

MIN_WORDS = 3
CONFIDENT = 0.85


@cache
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder  # late: its models take a moment

    return (LanguageDetectorBuilder.from_languages(Language.DUTCH, Language.ENGLISH)
            .with_preloaded_language_models().build())


def language_of(text: str) -> str | None:
    """``en`` or ``nl`` for a sentence written clearly in one of them, else ``None``."""
    if len(text.split()) < MIN_WORDS:
        return None
    from lingua import Language

    english = _detector().compute_language_confidence(text, Language.ENGLISH)
    if english >= CONFIDENT:
        return "en"
    if english <= 1 - CONFIDENT:
        return "nl"
    return None


def first_language(text: str | None, hint: str | None, default: str) -> str:
    """The language to greet a new person in."""
    written = language_of(text) if text else None
    if written is not None:
        return written
    if hint:
        code = hint.split("-")[0].casefold()
        if code in ("nl", "en"):
            return code
    return default
