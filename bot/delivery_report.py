"""What the delivery side learned since the last batch, for the next batch to write."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Posted:
    """What a delivered message became on its platform."""

    channel: str
    recipient: str
    refs: list[str]
    at: datetime


@dataclass
class DeliveryReport:
    """What the delivery side learned since the last batch, written with the next batch."""

    delivered: list[int] = field(default_factory=list)
    failed: list[tuple[int, str, bool]] = field(default_factory=list)
    posted: dict[int, Posted] = field(default_factory=dict)
    wiped: list[int] = field(default_factory=list)
    """Messages removed from their chat on the platform (or tried to be)."""
