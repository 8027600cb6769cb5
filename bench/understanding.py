"""How well the bot understands what people type: danger and crisis, calm answers, answers in
their own words at choice questions, dates. Every message goes through the real conversation
logic at a real step; what counts is what the person would see in the very next reply.

    .venv/bin/python -m bench.understanding            # the labelled corpora in tests/understanding
    .venv/bin/python -m bench.understanding --missed   # and the messages each row missed
    .venv/bin/python -m bench.understanding --stress   # the same, typed in a hurry (bench.stress)

Prints, per category and language, how many were understood, and the time the understanding
step takes per message (the signal check and the option match, p50 and p99).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.conversation import ConversationLogic, Snapshot, fresh_data
from bot.events import InboundEvent
from bot.matching import Choice, match_choices
from config import TEXT_PLACEHOLDERS, Facts, text_facts
from flows import load_flows

CORPORA = Path(__file__).resolve().parent.parent / "tests" / "understanding"
TODAY = date(2026, 12, 2)
# Where danger, crisis and calm messages are tried: a choice and a free-text question.
STEPS = (("incident", "role"), ("incident", "description"))
REPEATS = 5


@dataclass
class Score:
    right: int = 0
    total: int = 0
    missed: list[str] = field(default_factory=list)

    def add(self, ok: bool, text: str) -> None:
        self.total += 1
        self.right += ok
        if not ok:
            self.missed.append(text)

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 1.0


def logic() -> ConversationLogic:
    flows = load_flows(placeholders=TEXT_PLACEHOLDERS)
    return ConversationLogic(flows, text_facts(Facts(), 365), today=lambda: TODAY)


def _at(flow: str, step: str, language: str) -> Snapshot:
    return Snapshot(known=True, flow=flow, state=step, status="active", language=language,
                    data=fresh_data())


def _said(brain: ConversationLogic, flow: str, step: str, text: str,
          language: str) -> tuple[str, Any]:
    out = brain.turn(_at(flow, step, language), InboundEvent("bench", "p", "m", text=text))
    return "\n".join(r.text for r in out.replies), out


def _advice(brain: ConversationLogic, key: str, language: str) -> str:
    return brain.flows.text(key).get(language).format_map(brain.facts).split("\n")[0]


def load(name: str) -> dict[str, Any]:
    # BaseLoader: every message stays text ("yes" is not True)
    loaded: dict[str, Any] = yaml.load((CORPORA / name).read_text(encoding="utf-8"),
                                       Loader=yaml.BaseLoader)
    return loaded


def score_signals(brain: ConversationLogic, corpus: dict[str, Any]) -> dict[str, Score]:
    """Danger and crisis: the advice in the next reply, at each step; calm: no advice."""
    scores: dict[str, Score] = {}
    for category in ("danger", "crisis", "calm", "questions"):
        for language, messages in corpus.get(category, {}).items():
            score = scores.setdefault(f"{category} {language}", Score())
            danger, crisis = (_advice(brain, k, language) for k in ("danger", "crisis"))
            for text in map(str, messages):
                for flow, step in STEPS:
                    said, _ = _said(brain, flow, step, text, language)
                    if category in ("danger", "questions"):
                        ok = danger in said
                    elif category == "crisis":
                        ok = crisis in said
                    else:
                        ok = danger not in said and crisis not in said
                    score.add(ok, f"{text} (at {step})")
    return scores


def score_answers(brain: ConversationLogic, corpus: dict[str, Any]) -> dict[str, Score]:
    """Choices: the intake moves on with the right option; dates: with the right day, or a
    month alone asks which day."""
    choices, dates = Score(), Score()
    for flow, step, text, expected in corpus.get("choices", []):
        _, out = _said(brain, flow, step, str(text), "nl")
        answer = out.data["answers"].get(f"{flow}.{step}", {})
        moved_on = out.state != step or out.flow != flow
        chosen = answer.get("option") or (answer.get("options") or [None])[0]
        if flow == "menu":
            chosen = out.flow if out.flow != "menu" else None
            expected = {"person": "contact"}.get(str(expected), str(expected))
        choices.add(moved_on and chosen == str(expected), str(text))
    for text, expected in corpus.get("dates", []):
        said, out = _said(brain, "onrust", "key_date", str(text), "nl")
        if expected == "month":
            ok = "Welke dag in" in said
        else:
            value = out.data["answers"].get("onrust.key_date", {}).get("value")
            ok = value == str(expected)
        dates.add(ok, str(text))
    return {"choices": choices, "dates": dates}


def timings(brain: ConversationLogic, texts: list[str]) -> dict[str, tuple[float, float]]:
    """p50 and p99 in ms of the understanding step alone (the signal check, and the match of
    the answer as the speller reads it and as typed): one run of each message, and each
    message's best of ``REPEATS`` runs, so that this shared machine's hiccups do not count as
    the bot's cost."""
    role = [Choice.of(o) for o in brain.flows.step("incident", "role").option_list]
    expected = {word for choice in role for name in choice.names for word in name.split()}

    def once(text: str) -> float:
        started = time.perf_counter()
        brain.signals.check(text)
        match_choices(brain.signals.speller.as_meant(text, expected=expected), role) \
            or match_choices(text, role)
        return (time.perf_counter() - started) * 1000

    first = sorted(once(text) for text in texts)
    warm = sorted(min(once(text) for _ in range(REPEATS)) for text in texts)
    return {name: (statistics.median(samples), samples[int(len(samples) * 0.99) - 1])
            for name, samples in (("one run", first), (f"best of {REPEATS} runs", warm))}


def messages(corpus: dict[str, Any]) -> Iterator[str]:
    for category in ("danger", "crisis", "calm", "questions"):
        for texts in corpus.get(category, {}).values():
            yield from map(str, texts)


def unseen_corpora() -> tuple[str, ...]:
    """The fresh corpora, in the order they were written (fresh, fresh2, ...)."""
    names = [path.name for path in CORPORA.glob("fresh*_corpus.yaml")]
    return tuple(sorted(names, key=lambda name: int(name[5:].split("_")[0] or 1)))


def report(corpora: tuple[str, ...] | None = None, missed: bool = False) -> str:
    """The table; with ``missed``, each row's messages that were not understood below it."""
    corpora = corpora or all_corpora()
    brain = logic()
    lines = ["| corpus | category | understood | rate |", "|---|---|---|---|"]
    texts: list[str] = []
    for name in corpora:
        corpus = load(name)
        texts += list(messages(corpus))
        for label, score in {**score_signals(brain, corpus),
                             **score_answers(brain, corpus)}.items():
            if score.total:
                kind = {"calm": "false alarms avoided", "questions": "warned, on purpose"}.get(
                    label.split()[0], "understood")
                lines.append(f"| {name.removesuffix('.yaml')} | {label} ({kind}) | "
                             f"{score.right}/{score.total} | {score.rate:.1%} |")
                if missed:
                    lines.extend(f"|   | missed: {text} | | |" for text in score.missed)
    lines.append("")
    for name, (p50, p99) in timings(brain, texts).items():
        lines.append(f"Understanding step per message, {name}: p50 {p50:.3f} ms, "
                     f"p99 {p99:.3f} ms ({len(texts)} messages).")
    return "\n".join(lines)


def all_corpora() -> tuple[str, ...]:
    return ("signals_corpus.yaml", "answers_corpus.yaml", "heldout_corpus.yaml",
            *unseen_corpora())


if __name__ == "__main__":
    missed = "--missed" in sys.argv[1:]
    if "--stress" in sys.argv[1:]:
        from bench.stress import stress_report

        sys.stdout.write(stress_report(all_corpora(), missed=missed) + "\n")
    else:
        sys.stdout.write(report(missed=missed) + "\n")
