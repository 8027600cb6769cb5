"""What the team marks on a case besides its content: the urgency level (computed by triage,
changeable by an expert) and whether the team verified that the report is from a real office
holder. Both are audited; neither is ever asked of or told to the person."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from flows.schema import Triage
from flows.text import normalize
from flows.triage import more_urgent
from storage import cases as db
from storage.case_types import CaseInfo

if TYPE_CHECKING:
    from bot.routing import RoutingTexts

UNDO_WORDS = frozenset({"intrekken", "weg", "undo", "remove", "nee", "no"})


def level_label(triage: Triage, level: str, language: str) -> str:
    found = triage.levels.get(level)
    return found.label.get(language) if found is not None else level


def level_names(triage: Triage, language: str) -> str:
    return ", ".join(level.label.get(language) for level in triage.levels.values())


def pick_level(triage: Triage, text: str) -> str | None:
    wanted = normalize(text)
    for name, level in triage.levels.items():
        if wanted and wanted in {normalize(name), normalize(level.label.nl),
                                 normalize(level.label.en), *map(normalize, level.words)}:
            return name
    return None


def mark_lines(texts: RoutingTexts, triage: Triage, case: CaseInfo, language: str,
               name_of: Callable[[str], str]) -> list[str]:
    """The lines an expert reads in an offer: the urgency with its reasons, and whether the
    case is verified. ``name_of``: an expert's first name by id."""
    level = level_label(triage, case.urgency, language)
    reasons = [rule.reason.get(language) for rule in triage.rules
               if rule.id in case.reasons()]
    reasons = list(dict.fromkeys(reasons))
    if case.urgency_set_by is not None:
        urgency = texts.t("expert_intake_urgency_by", language, level=level,
                          name=name_of(case.urgency_set_by))
    elif reasons:
        urgency = texts.t("expert_intake_urgency", language, level=level,
                          reasons="; ".join(reasons))
    else:
        urgency = texts.t("expert_intake_urgency_plain", language, level=level)
    if case.verified_at is not None:
        verified = texts.t("expert_intake_verified", language,
                           name=name_of(case.verified_by or "?"), how=case.verified_how or "")
    else:
        verified = texts.t("expert_intake_unverified", language)
    return [f"• {urgency}", f"• {verified}"]


def set_urgency(cx: Connection, case: CaseInfo, level: str, expert_id: str,
                now: datetime) -> bool:
    """Returns whether the case became more urgent (then it should move on sooner)."""
    db.update_case(cx, case.id, now, urgency=level, urgency_set_by=expert_id)
    return level != case.urgency and more_urgent(level, case.urgency) == level


def set_verified(cx: Connection, case_id: int, now: datetime, expert_id: str | None,
                 how: str | None) -> None:
    """Mark a case verified (``how``: in the expert's words), or not (``how`` None)."""
    if how is None:
        db.update_case(cx, case_id, now, verified_at=None, verified_by=None, verified_how=None)
    else:
        db.update_case(cx, case_id, now, verified_at=now, verified_by=expert_id,
                       verified_how={"text": how})
