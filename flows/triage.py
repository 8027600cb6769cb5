"""How urgent a case is: the rules of ``triage.yaml`` applied to a case's answers and to the
danger and crisis signals seen in what the person wrote. Pure; the caller stores the result."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from config.timezone import TIMEZONE
from flows.schema import URGENCY_LEVELS, Flow, Triage, TriageCondition, TriageExample

RANK: dict[str, int] = {level: rank for rank, level in enumerate(URGENCY_LEVELS)}
NORMAL = "normaal"
_DAYS_FROM_TODAY = re.compile(r"^[+-]\d{1,3}$")


@dataclass(frozen=True)
class Assessment:
    level: str
    reasons: tuple[str, ...]
    """The ids of the rules that hold, in the file's order."""


def more_urgent(a: str, b: str) -> str:
    return a if RANK.get(a, len(RANK)) <= RANK.get(b, len(RANK)) else b


def assess(triage: Triage, *, flow: str, answers: Mapping[str, Mapping[str, Any]],
           signals: Iterable[str], now: datetime) -> Assessment:
    """``answers``: by step name, as the intake stores them."""
    seen = set(signals)
    held = [rule for rule in triage.rules
            if all(_holds(c, flow, answers, seen, now) for c in rule.when)]
    level = NORMAL
    for rule in held:
        level = more_urgent(rule.level, level)
    return Assessment(level, tuple(rule.id for rule in held))


def _holds(condition: TriageCondition, flow: str, answers: Mapping[str, Mapping[str, Any]],
           signals: set[str], now: datetime) -> bool:
    if condition.signal is not None:
        return condition.signal in signals
    if condition.flow != flow or condition.step is None:
        return False
    answer = answers.get(condition.step) or {}
    if condition.options:
        chosen = {answer.get("option"), *(answer.get("options") or ())}
        return bool(chosen & set(condition.options))
    if condition.within_hours is not None:
        return _date_within(answer.get("value"), condition.within_hours, now)
    return False


def _date_within(value: object, hours: float, now: datetime) -> bool:
    """A day (an ISO date) that is not over yet and starts within ``hours`` from ``now``."""
    if not isinstance(value, str):
        return False
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return False
    start = datetime.combine(day, time(), TIMEZONE)
    end = start + timedelta(days=1)
    return end > now and start - now <= timedelta(hours=hours)


def example_answers(example: TriageExample, flow: Flow, today: date,
                    ) -> dict[str, dict[str, Any]]:
    """An example's answers as the intake would store them."""
    answers: dict[str, dict[str, Any]] = {}
    for name, given in example.answers.items():
        step = flow.steps.get(name)
        if isinstance(given, tuple) or (step is not None and step.multi):
            answers[name] = {"options": [given] if isinstance(given, str) else list(given)}
        elif step is not None and step.validate_as == "date" and _DAYS_FROM_TODAY.match(given):
            day = today + timedelta(days=int(given))
            answers[name] = {"text": given, "value": day.isoformat()}
        else:
            answers[name] = {"option": given}
    return answers
