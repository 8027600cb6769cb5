"""Checking ``triage.yaml`` at load: every rule names steps and options that exist, and every
example gets the level it says."""

from __future__ import annotations

from datetime import datetime

from config.timezone import TIMEZONE
from flows.schema import URGENCY_LEVELS, Flow, Triage, TriageCondition
from flows.triage import assess, example_answers

EXAMPLE_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=TIMEZONE)
"""The moment the examples are judged at (a Monday noon)."""


class TriageError(ValueError):
    """``triage.yaml`` is not valid; the message says which rule or example."""


def check_triage(triage: Triage, flows: dict[str, Flow]) -> None:
    missing = [level for level in URGENCY_LEVELS if level not in triage.levels]
    if missing:
        raise TriageError(f"triage.yaml: levels {missing} are missing")
    if unknown := [level for level in triage.levels if level not in URGENCY_LEVELS]:
        raise TriageError(f"triage.yaml: unknown levels {unknown}")
    seen: set[str] = set()
    for rule in triage.rules:
        if rule.id in seen:
            raise TriageError(f"triage.yaml: rule {rule.id!r} is defined twice")
        seen.add(rule.id)
        for condition in rule.when:
            _check_condition(f"triage.yaml rule {rule.id!r}", condition, flows)
    for number, example in enumerate(triage.examples, start=1):
        where = f"triage.yaml example {number}"
        flow = flows.get(example.flow)
        if flow is None:
            raise TriageError(f"{where}: there is no flow {example.flow!r}")
        unknown = [name for name in example.answers if name not in flow.steps]
        if unknown:
            raise TriageError(f"{where}: flow {flow.flow!r} has no steps {unknown}")
        got = assess(triage, flow=flow.flow, signals=example.signals, now=EXAMPLE_NOW,
                     answers=example_answers(example, flow, EXAMPLE_NOW.date()))
        if got.level != example.level or (example.reasons and
                                          set(got.reasons) != set(example.reasons)):
            raise TriageError(f"{where}: the rules give {got.level} {list(got.reasons)}, "
                              f"the example says {example.level} {list(example.reasons)}")


def _check_condition(where: str, condition: TriageCondition, flows: dict[str, Flow]) -> None:
    if condition.signal is not None:
        if condition.flow or condition.step or condition.options or condition.within_hours:
            raise TriageError(f"{where}: a signal condition names nothing else")
        return
    flow = flows.get(condition.flow or "")
    step = flow.steps.get(condition.step or "") if flow is not None else None
    if flow is None or step is None:
        raise TriageError(f"{where}: there is no step {condition.flow}.{condition.step}")
    if bool(condition.options) == (condition.within_hours is not None):
        raise TriageError(f"{where}: give either options or within_hours")
    known = {option.id for option in step.option_list}
    if unknown := [o for o in condition.options if o not in known]:
        raise TriageError(f"{where}: step {condition.step!r} has no options {unknown}")
    if condition.within_hours is not None and step.validate_as != "date":
        raise TriageError(f"{where}: within_hours needs a date question")
