"""Retention: what is deleted when, and the anonymous facts that stay for statistics.

- A submitted case, or one with an expert, waits for the people who help; it is never
  deleted automatically.
- A closed or abandoned case, or an intake left unfinished, is deleted with its conversation
  and messages once it has been quiet for the retention period.
- A person with no open case who has not been seen for the retention period is erased
  entirely (everything cascades from ``people``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, exists, func, insert, or_, select

from storage.database import forget_deleted
from storage.models import (
    AcceptFact,
    AuditEntry,
    Case,
    CaseFact,
    Conversation,
    Message,
    Person,
    ProcessedInbound,
)

log = logging.getLogger(__name__)

OPEN = ("submitted", "asking", "assigned")  # waiting for, or with, an expert
FINISHED = ("closed", "abandoned")


@dataclass(frozen=True)
class PurgeReport:
    cases: int
    people: int


def record_facts(connection: Connection, *, submitted_at: datetime, kind: str, platform: str,
                 answers: dict[str, Any], urgent: bool) -> None:
    """Keep the anonymous facts of a case as it is submitted."""

    def option(step: str) -> str | None:
        value = answers.get(step) or {}
        chosen = value.get("option")
        return str(chosen) if chosen is not None else None

    connection.execute(insert(CaseFact).values(
        month=submitted_at.strftime("%Y-%m"), kind=kind, platform=platform,
        incident_type=option("what"), how=option("how"), role=option("role"),
        aangifte=option("aangifte"), urgent=urgent))


def record_accept(connection: Connection, *, asked_at: datetime, accepted_at: datetime,
                  urgent: bool, escalated: bool) -> None:
    """Keep how long a case waited for its first accept, without a link to the case."""
    seconds = max(0, round((accepted_at - asked_at).total_seconds()))
    connection.execute(insert(AcceptFact).values(
        month=asked_at.strftime("%Y-%m"), urgent=urgent, seconds=seconds, escalated=escalated))


def purge(engine: Engine, older_than: datetime) -> PurgeReport:
    """Delete what the retention rules say is due, as of ``older_than`` (now minus the period)."""
    quiet = func.coalesce(Case.closed_at, Case.updated_at) < older_than
    due = or_(Case.status.in_(FINISHED), Case.status == "intake")
    with engine.begin() as connection:
        case_ids = list(connection.scalars(select(Case.id).where(due, quiet)))
        conversation_ids = list(connection.scalars(
            select(Case.conversation_id).where(Case.id.in_(case_ids),
                                               Case.conversation_id.is_not(None))))
        if case_ids:
            connection.execute(delete(Message).where(or_(
                Message.case_id.in_(case_ids), Message.conversation_id.in_(conversation_ids))))
            connection.execute(delete(Case).where(Case.id.in_(case_ids)))
            connection.execute(delete(Conversation).where(Conversation.id.in_(conversation_ids)))
        has_open_case = exists().where(Case.person_id == Person.id, Case.status.in_(OPEN))
        people = connection.execute(
            delete(Person).where(Person.last_seen_at < older_than, ~has_open_case)).rowcount
        connection.execute(delete(ProcessedInbound).where(
            and_(ProcessedInbound.person_id.is_(None),
                 ProcessedInbound.processed_at < older_than)))
        # The audit trail of a case stays as long as the case; once the case is gone and the
        # entry is older than the period, it goes too.
        case_exists = exists().where(Case.id == AuditEntry.case_id)
        connection.execute(delete(AuditEntry).where(AuditEntry.at < older_than, ~case_exists))
    if case_ids or people:
        forget_deleted(engine)
    report = PurgeReport(cases=len(case_ids), people=people or 0)
    log.info("retention.purged cases=%d people=%d", report.cases, report.people)
    return report
