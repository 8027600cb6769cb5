"""The labelled danger, crisis and calm messages, and answers at choice and date questions, as
people in fear type them: a letter slipped in a word or two, words run together, a short
message typed without spaces, all capitals, a calm sentence before or after ("thank you for
your help so far. theres a man next to my bed"). Scored as :mod:`bench.understanding` scores them as
written: what the person would see in the very next reply.

    .venv/bin/python -m bench.understanding --stress
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from bench.understanding import Score, load, logic, score_answers, score_signals
from bot.conversation import ConversationLogic
from bot.understanding.train import NEIGHBOURS

SEED = 2026
CATEGORIES = ("danger", "crisis", "calm")
LONG_ENOUGH = 4
"""Words shorter than this are left as typed: a slip there makes another word more often
than a typo ("de" "dr")."""
SHORT_MESSAGE = 6
"""Only a message of at most this many words is typed wholly without spaces."""


def slip(word: str, rng: random.Random) -> str:
    """One slip inside a word: a letter left out, doubled, swapped with the next, or a key
    beside it hit instead."""
    if len(word) < LONG_ENOUGH or not word.isalpha():
        return word
    at = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("drop", "double", "swap", "near"))
    if kind == "drop":
        return word[:at] + word[at + 1:]
    if kind == "double":
        return word[:at] + word[at] + word[at:]
    if kind == "swap":
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    near = NEIGHBOURS.get(word[at], word[at])
    return word[:at] + rng.choice(near) + word[at + 1:]


def _slips(count: int) -> Callable[[str, random.Random, list[str]], str]:
    def typed(text: str, rng: random.Random, calm: list[str]) -> str:
        words = text.split()
        for _ in range(count):
            long = [i for i, word in enumerate(words) if len(word) >= LONG_ENOUGH]
            if long:
                at = rng.choice(long)
                words[at] = slip(words[at], rng)
        return " ".join(words)
    return typed


def _run_together(text: str, rng: random.Random, calm: list[str]) -> str:
    words = text.split()
    if len(words) > 1:
        at = rng.randrange(len(words) - 1)
        words[at:at + 2] = [words[at] + words[at + 1]]
    return " ".join(words)


def _no_spaces(text: str, rng: random.Random, calm: list[str]) -> str:
    return text.replace(" ", "") if len(text.split()) <= SHORT_MESSAGE else text


def _capitals(text: str, rng: random.Random, calm: list[str]) -> str:
    return text.upper()


def _calm_before(text: str, rng: random.Random, calm: list[str]) -> str:
    return f"{rng.choice(calm).rstrip('.')}. {text}"


def _calm_after(text: str, rng: random.Random, calm: list[str]) -> str:
    return f"{text}. {rng.choice(calm)}"


KINDS: dict[str, Callable[[str, random.Random, list[str]], str]] = {
    "a slip in one word": _slips(1),
    "slips in two words": _slips(2),
    "two words run together": _run_together,
    "a short message without spaces": _no_spaces,
    "all capitals": _capitals,
    "a calm sentence before": _calm_before,
    "a calm sentence after": _calm_after,
}


TYPED_ANSWERS = ("a slip in one word", "two words run together", "all capitals")
"""The kinds of typing that answers at a choice or date question are tried with too."""


def stressed(corpus: dict[str, Any], kind: str, rng: random.Random) -> dict[str, Any]:
    """The corpus's danger, crisis and calm messages, each typed as ``kind`` says, and its
    answers at choice and date questions for the kinds of ``TYPED_ANSWERS``. The calm sentences put
    beside them are the corpus's own calm messages of that language."""
    change = KINDS[kind]
    result: dict[str, Any] = {}
    if kind in TYPED_ANSWERS:
        for answers in ("choices", "dates"):
            if corpus.get(answers):
                result[answers] = [[*head, change(str(text), rng, []), expected]
                                   for *head, text, expected in corpus[answers]]
    for category in CATEGORIES:
        for language, texts in corpus.get(category, {}).items():
            calm = [str(text) for text in corpus.get("calm", {}).get(language, [])
                    if len(str(text).split()) > 3] or ["ik heb een vraag"]
            result.setdefault(category, {})[language] = [change(str(text), rng, calm)
                                                         for text in texts]
    return result


def stress_scores(brain: ConversationLogic, corpora: tuple[str, ...]
                  ) -> dict[str, dict[str, Score]]:
    """Per kind of typing, per category and language, over all ``corpora`` together."""
    result: dict[str, dict[str, Score]] = {}
    for kind in KINDS:
        totals = result.setdefault(kind, {})
        for name in corpora:
            rng = random.Random(f"{SEED} {kind} {name}")  # the same slips on every run
            typed = stressed(load(name), kind, rng)
            scores = {**score_signals(brain, typed),
                      **{label: score for label, score in score_answers(brain, typed).items()
                         if typed.get(label)}}
            for label, score in scores.items():
                total = totals.setdefault(label, Score())
                total.right += score.right
                total.total += score.total
                total.missed += score.missed
    return result


def stress_report(corpora: tuple[str, ...], missed: bool = False) -> str:
    lines = ["| typed as | category | understood | rate |", "|---|---|---|---|"]
    for kind, scores in stress_scores(logic(), corpora).items():
        for label, score in sorted(scores.items()):
            what = "false alarms avoided" if label.startswith("calm") else "understood"
            lines.append(f"| {kind} | {label} ({what}) | {score.right}/{score.total} | "
                         f"{score.rate:.1%} |")
            if missed:
                lines.extend(f"|   | missed: {text} | | |" for text in score.missed)
    return "\n".join(lines)
