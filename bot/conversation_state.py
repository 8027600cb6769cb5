"""What a conversation turn starts from (:class:`Snapshot`) and gives back (:class:`Outcome`),
and the replies it makes: plain data, stored by the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.events import OutboundOption

ACTIVE, PAUSED, COMPLETED = "active", "paused", "completed"
CONFIRM_PREFIX = "confirm:"
DONE = "done"
DEFAULT_CASE_KIND = "contact"


@dataclass(frozen=True)
class Reply:
    text: str
    options: tuple[OutboundOption, ...] = ()


@dataclass
class Snapshot:
    """What storage knows of the person's current conversation."""

    known: bool
    flow: str
    state: str
    status: str
    language: str
    data: dict[str, Any]
    returning: bool = False
    """Not known in this conversation, but a person who talked with the bot before."""


@dataclass
class Outcome:
    """The new conversation state, the replies, and what must happen to the case."""

    flow: str
    state: str
    status: str
    language: str
    data: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)
    case_kind: str | None = None
    urgent: bool = False
    signals: set[str] = field(default_factory=set)
    """What this turn saw: "danger" (words, or an urgent step) and/or "crisis"."""
    human: bool = False
    submit: dict[str, Any] | None = None
    attach_to_case: bool = False
    erase: bool = False
    new_conversation: bool = False
    abandon_case: bool = False
    stop_checkins: bool = False
    wipe: str | None = None
    """Remove the chat from the person's device: "notice" (a neutral last message stays) or
    "silent" (nothing stays, unless some messages could not be removed)."""

    @property
    def touches_case(self) -> bool:
        return bool(self.case_kind or self.urgent or self.human or self.submit
                    or self.attach_to_case)

    def add_notice(self, text: str, *, last_when_completed: bool = True) -> None:
        """A notice from outside the conversation (the case went to an expert): before the
        question this turn asks, so the question stays last; last when the conversation
        ended (unless ``last_when_completed`` is False)."""
        ended = self.status == COMPLETED and last_when_completed
        self.replies.insert(len(self.replies) if ended else max(0, len(self.replies) - 1),
                            Reply(text))


def fresh_data() -> dict[str, Any]:
    return {"answers": {}, "history": [], "selection": [], "unclear": 0,
            "confirm": None, "correcting": False}


def answer_key(flow: str, step: str) -> str:
    return f"{flow}.{step}"
