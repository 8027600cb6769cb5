"""Reading an intake back: answers as text, and the expert specialties they ask for."""

from __future__ import annotations

from datetime import date
from typing import Any

from flows.schema import Flow, Step

SUMMARY_TEXT_LIMIT = 300
_WEEKDAYS = {"nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag",
                    "zondag"),
             "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                    "Sunday")}
_MONTHS = {"nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
                  "september", "oktober", "november", "december"),
           "en": ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December")}


def day_in_words(day: date, language: str) -> str:
    """"donderdag 10 december 2026", "Thursday 10 December 2026": as the bot repeats a date,
    so that the person sees at once whether it understood the right one."""
    names = "en" if language == "en" else "nl"
    return (f"{_WEEKDAYS[names][day.weekday()]} {day.day} {_MONTHS[names][day.month - 1]} "
            f"{day.year}")


def month_in_words(month: int, language: str) -> str:
    return _MONTHS["en" if language == "en" else "nl"][month - 1]


def format_answer(step: Step, answer: dict[str, Any], language: str,
                  limit: int | None = SUMMARY_TEXT_LIMIT) -> str:
    """An answer as the person would recognise it: option labels, a date in words,
    free text (cut at ``limit`` characters when given)."""
    labels = {o.id: o.label.get(language) for o in step.option_list}
    if "options" in answer:
        return ", ".join(labels.get(i, i) for i in answer["options"])
    if "option" in answer:
        label = str(labels.get(answer["option"], answer["option"]))
        # an option named in their own words ("gisteravond laat"): both, so nothing is lost
        own = _cut(str(answer.get("text", "")), limit)
        return f"{label} ({own})" if own else label
    text = str(answer.get("value") or answer.get("text", ""))
    if step.validate_as == "date" and "value" in answer:
        text = day_in_words(date.fromisoformat(answer["value"]), language)
    return _cut(text, limit)


def _cut(text: str, limit: int | None) -> str:
    return text[:limit].rstrip() + " …" if limit is not None and len(text) > limit else text


def answers_of(flow: str, answers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A conversation's answers (keyed ``flow.step``) for one flow, keyed by step."""
    prefix = f"{flow}."
    return {key.removeprefix(prefix): value for key, value in answers.items()
            if key.startswith(prefix)}


def describe(flow: Flow, answers: dict[str, dict[str, Any]], language: str, *,
             brief: bool, limit: int | None = None) -> list[str]:
    """One line per answer, in the order of the flow. ``brief`` keeps only answers chosen
    from options: no free text, names, phone numbers or addresses (what an expert may see
    before taking a case)."""
    lines = []
    for name, step in flow.steps.items():
        answer = answers.get(name)
        if answer is None or step.summary is None:
            continue
        if brief and not ("option" in answer or "options" in answer):
            continue
        value = format_answer(step, answer, language, limit=limit)
        lines.append(f"• {step.summary.get(language)}: {value}")
    return lines


def specialties(flow: Flow, answers: dict[str, dict[str, Any]]) -> list[str]:
    """What the flow always needs, then what the chosen options ask for, without repeats."""
    needed = list(flow.specialties)
    for name, step in flow.steps.items():
        answer = answers.get(name) or {}
        chosen = answer.get("options") or ([answer["option"]] if "option" in answer else [])
        for option in step.option_list:
            if option.id in chosen:
                needed.extend(s for s in option.specialties if s not in needed)
    return needed
