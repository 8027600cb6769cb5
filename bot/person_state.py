"""A person and their conversation as a batch of turns has them now."""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation import Snapshot


@dataclass
class PersonState:
    """A person and their conversation as the batch has them now."""

    person_id: int
    conversation_id: int
    snapshot: Snapshot
    channel: str
    address: str
    identity_id: int = 0
    """The identity written from: the person, or an account linked to them."""
    reply_identity_id: int | None = None
