"""The one case type. :class:`CaseHead` is what every intake turn reads of a case, from the
``cases`` table alone (the hot path); :class:`CaseInfo` is the same case with everything else,
its person's reply address and routing, as routing and the experts read it (with a join).
The rules that only need the head (is it open, may it make a move) live on the head, so both
answer them alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.case_status import OPEN_STATUSES, CaseStatus


@dataclass(frozen=True)
class CaseHead:
    """``urgency_reasons`` None: never assessed yet."""

    id: int
    kind: str
    status: str
    urgent: bool
    human_requested: bool = False
    urgency: str = "normaal"
    urgency_set_by: str | None = None
    """An expert who chose the level; it then stays until a new danger or crisis signal."""
    signals: tuple[str, ...] = ()
    urgency_reasons: tuple[str, ...] | None = None

    def is_open(self) -> bool:
        """Handed in and not closed: an expert may be working on it."""
        return self.status in OPEN_STATUSES


@dataclass(frozen=True, kw_only=True)
class CaseInfo(CaseHead):
    """The whole case, with what routing needs of its person and conversation."""

    person_id: int
    channel: str
    address: str
    language: str
    conversation_id: int | None
    specialties: list[str]
    assigned_expert: str | None
    escalation_level: int
    intake: dict[str, Any]
    created_at: datetime
    first_asked_at: datetime | None
    accepted_at: datetime | None
    first_answer_at: datetime | None
    verified_at: datetime | None = None
    verified_by: str | None = None
    verified_how: str | None = None
    blocked: bool = False
    """Its person's account is blocked (see :mod:`storage.case_access`)."""
    contact_due_at: datetime | None = None
    """When its expert is late in making contact (see :mod:`bot.first_contact`)."""
    contact_reminders: int = 0

    def is_with(self, expert_id: str) -> bool:
        """Taken by this expert, and still theirs."""
        return self.status == CaseStatus.ASSIGNED and self.assigned_expert == expert_id

    def reasons(self) -> tuple[str, ...]:
        """The rules that gave its urgency level (none when never assessed)."""
        return self.urgency_reasons or ()
