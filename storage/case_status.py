"""The statuses of a case and of an offer of it to an expert: the one list of them. Which moves
between case statuses are allowed is :mod:`bot.lifecycle`'s business."""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    """In the order a case usually goes through them."""

    INTAKE = "intake"
    SUBMITTED = "submitted"
    ASKING = "asking"
    ASSIGNED = "assigned"
    CLOSED = "closed"
    ABANDONED = "abandoned"


OPEN_STATUSES = (CaseStatus.SUBMITTED, CaseStatus.ASKING, CaseStatus.ASSIGNED)
"""Handed in and not closed: an expert may be working on it."""


class OfferStatus(StrEnum):
    """An offer of a case to one expert (a handoff)."""

    ASKED = "asked"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TAKEN = "taken"
    TRANSFERRED = "transferred"
    WITHDRAWN = "withdrawn"
