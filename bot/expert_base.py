"""What every part of an expert's message shares: who the expert is, the turn it is in, how to
answer the expert, and the access rule (an expert acts only on cases offered or given to them; a
coordinator may also act on any open case, a colleague asked to read along may read the file
and add notes)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.case_marks import level_names
from bot.write_buffer import TurnContext
from config.experts import Expert
from flows.schema import Text
from flows.text import normalize
from storage import case_access as access
from storage import cases as db
from storage.case_types import CaseInfo

if TYPE_CHECKING:
    from bot.experts import ExpertDesk

log = logging.getLogger(__name__)


class ExpertBase:
    """One expert message (see :class:`bot.experts.ExpertMessage`): its expert and turn."""

    def __init__(self, desk: ExpertDesk, turn: TurnContext, expert: Expert) -> None:
        self.desk, self.router, self.texts = desk, desk.router, desk.texts
        self.turn, self.expert = turn, expert
        self.db = turn.db
        self.language = expert.language

    def say(self, key: str, **fields: object) -> None:
        self.router.tell_expert(self.turn, None, self.expert,
                                self.texts.t(key, self.language, **fields))

    def audit(self, action: str, case_id: int | None, detail: str | None = None) -> None:
        self.turn.audit(f"expert:{self.expert.id}", action, case_id, detail)

    def lists(self) -> dict[str, str]:
        routing = self.router.flows.routing
        return {"outcomes": ", ".join(routing.outcomes),
                "specialties": ", ".join(routing.specialties),
                "levels": level_names(self.router.flows.triage, self.language)}

    def role(self, language: str) -> str:
        if self.expert.role is not None:
            return self.expert.role.get(language)
        return self.texts.t("default_role", language)

    def who_wrote(self, by_expert: bool) -> str:
        return self.texts.t("expert_colleague_wrote" if by_expert else "expert_addition",
                            self.language)

    def refuse(self, case_id: int) -> None:
        self.audit("denied", case_id if case_id else None)
        log.warning("expert.denied expert=%s case=%s", self.expert.id, case_id)
        self.say("expert_not_yours", case=case_id)

    def my_case(self, case_id: int, *, coordinator_may: bool,
                consultant_may: bool = False) -> CaseInfo | None:
        """The case if this expert may act on it: given to them, or (for a coordinator where
        allowed) any open case, or (where allowed) an open case they were asked to read
        along with. Refuses politely otherwise."""
        case = db.load_case(self.db, case_id)
        if case is not None and case.is_with(self.expert.id):
            return case
        if case is not None and coordinator_may and self.expert.coordinator and case.is_open():
            return case
        if case is not None and consultant_may and case.is_open() \
                and self.expert.id in access.consultants(self.db, case.id):
            return case
        if case is not None and case.assigned_expert == self.expert.id:
            self.say("expert_not_open", case=case_id)
            return None
        self.refuse(case_id)
        return None

    @staticmethod
    def pick(text: str, names: Mapping[str, Text]) -> str | None:
        """A name from ``names``, typed as its key (or the start of it) or its label."""
        wanted = normalize(text)
        if not wanted:
            return None
        for key, label in names.items():
            if wanted in {normalize(key), normalize(label.nl), normalize(label.en)} \
                    or normalize(key).startswith(wanted):
                return key
        return None
