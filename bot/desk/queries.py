"""What the desk's pages read: the case queue without content, one case's facts, its offers.
Core on the caller's connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from bot.routing import COORDINATOR_LEVEL
from storage.case_status import OPEN_STATUSES, CaseStatus
from storage.cases import HANDOFFS, as_utc
from storage.repository import CASES, PEOPLE

STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "open": tuple(OPEN_STATUSES),
    "asking": (CaseStatus.ASKING,),
    "assigned": (CaseStatus.ASSIGNED,),
    "closed": (CaseStatus.CLOSED,),
    "all": tuple(CaseStatus),
}
MOST_ROWS = 300


@dataclass(frozen=True)
class QueueRow:
    """A case as the queue shows it: facts, never what anyone wrote."""

    id: int
    kind: str
    status: str
    urgency: str
    urgent: bool
    specialties: tuple[str, ...]
    assigned_expert: str | None
    created_at: datetime
    first_asked_at: datetime | None
    accepted_at: datetime | None
    escalation_level: int
    blocked: bool
    verified: bool

    @property
    def step(self) -> str:
        """How far escalation went: none, the n-th round of experts, or the coordinators."""
        if self.escalation_level >= COORDINATOR_LEVEL:
            return "coordinator"
        return str(self.escalation_level) if self.escalation_level else "-"

    def accept_seconds(self) -> float | None:
        if self.first_asked_at is None or self.accepted_at is None:
            return None
        return max(0.0, (self.accepted_at - self.first_asked_at).total_seconds())


_COLUMNS = (CASES.c.id, CASES.c.kind, CASES.c.status, CASES.c.urgency, CASES.c.urgent,
            CASES.c.specialties, CASES.c.assigned_expert, CASES.c.created_at,
            CASES.c.first_asked_at, CASES.c.accepted_at, CASES.c.escalation_level,
            PEOPLE.c.blocked_at, CASES.c.verified_at)
_FROM = CASES.join(PEOPLE, PEOPLE.c.id == CASES.c.person_id)


def _row(values: Any) -> QueueRow:
    return QueueRow(
        id=values.id, kind=values.kind, status=values.status, urgency=values.urgency,
        urgent=bool(values.urgent), specialties=tuple(values.specialties or ()),
        assigned_expert=values.assigned_expert, created_at=as_utc(values.created_at) or
        values.created_at, first_asked_at=as_utc(values.first_asked_at),
        accepted_at=as_utc(values.accepted_at), escalation_level=values.escalation_level,
        blocked=values.blocked_at is not None, verified=values.verified_at is not None)


def queue(connection: Connection, *, status: str = "open", urgency: str = "",
          specialty: str = "") -> list[QueueRow]:
    """The cases for the filters, newest first (the page sorts by urgency)."""
    query = select(*_COLUMNS).select_from(_FROM).where(
        CASES.c.status.in_(STATUS_FILTERS.get(status, STATUS_FILTERS["open"])))
    if urgency:
        query = query.where(CASES.c.urgency == urgency)
    rows = [_row(r) for r in connection.execute(
        query.order_by(CASES.c.id.desc()).limit(MOST_ROWS))]
    if specialty:
        rows = [r for r in rows if specialty in r.specialties]
    return rows


def case_row(connection: Connection, case_id: int) -> QueueRow | None:
    found = connection.execute(select(*_COLUMNS).select_from(_FROM)
                               .where(CASES.c.id == case_id)).one_or_none()
    return _row(found) if found is not None else None


@dataclass(frozen=True)
class OfferRow:
    expert: str
    status: str
    asked_at: datetime
    answered_at: datetime | None


def offers(connection: Connection, case_id: int) -> list[OfferRow]:
    rows = connection.execute(select(HANDOFFS.c.expert, HANDOFFS.c.status,
                                     HANDOFFS.c.asked_at, HANDOFFS.c.answered_at)
                              .where(HANDOFFS.c.case_id == case_id).order_by(HANDOFFS.c.id))
    return [OfferRow(r.expert, r.status, as_utc(r.asked_at) or r.asked_at,
                     as_utc(r.answered_at)) for r in rows]
