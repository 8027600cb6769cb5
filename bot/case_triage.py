"""A case's urgency as a turn changes it: the triage rules (``flows/triage.yaml``) applied to
its answers and to every danger or crisis signal seen so far. A level an expert chose stays
until a new signal comes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flows.schema import Triage
from flows.triage import assess, more_urgent


def triage_changes(triage: Triage, *, level: str, reasons: tuple[str, ...] | None,
                   set_by: str | None, signals: tuple[str, ...], new_signals: set[str],
                   flow: str, answers: dict[str, dict[str, Any]], now: datetime,
                   ) -> dict[str, Any]:
    """The case columns to change (none when nothing changed)."""
    seen = set(signals) | new_signals
    assessment = assess(triage, flow=flow, answers=answers, signals=seen, now=now)
    values: dict[str, Any] = {}
    if seen != set(signals):
        values["signals"] = sorted(seen)
    if reasons is None or assessment.reasons != tuple(reasons):
        values["urgency_reasons"] = list(assessment.reasons)
    fresh = bool(seen - set(signals))
    if set_by is not None and not fresh:
        return values
    if set_by is not None:
        values["urgency_set_by"] = None
    if assessment.level != level:
        values["urgency"] = assessment.level
    return values


def signal_changes(triage: Triage, *, level: str, reasons: tuple[str, ...] | None,
                   signals: tuple[str, ...], new_signals: set[str], flow: str,
                   now: datetime) -> dict[str, Any]:
    """Where a case's answers are not at hand (a check-in, a message to its expert): new
    signals can only add to the level and its reasons, and overrule a level chosen by hand."""
    seen = set(signals) | new_signals
    if seen == set(signals):
        return {}
    found = assess(triage, flow=flow, answers={}, signals=seen, now=now)
    known = tuple(reasons or ())
    return {"signals": sorted(seen), "urgency_set_by": None,
            "urgency": more_urgent(found.level, level),
            "urgency_reasons": [*known, *(r for r in found.reasons if r not in known)]}
