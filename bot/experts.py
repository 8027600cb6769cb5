"""What an expert on the roster can do by message: take or decline a case offered to them,
talk with the person through the bot, and close, transfer or annotate their cases.

Access rules: an expert acts only on cases offered or given to them; a coordinator may also
take, close, transfer or annotate any open case. Button payloads and case numbers are checked
against those rules, so a forged or stale one does nothing but get a polite refusal (and an
audit entry).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from bot.checkins import CheckinDesk
from bot.events import InboundEvent
from bot.expert_case_work import CaseWork
from bot.expert_commands import EXPERT_COMMANDS, check_commands, help_lines
from bot.expert_relay import ExpertRelay
from bot.expert_rota import RotaWork
from bot.expert_taking import TakingCases
from bot.expert_team import TeamWork
from bot.routing import HANDOFF_PREFIX, Router
from bot.write_buffer import TurnContext
from config.experts import Expert
from flows.text import normalize
from storage import cases as db

log = logging.getLogger(__name__)

_CASE_NUMBER = re.compile(r"^#?(\d{1,12})$")


@dataclass(frozen=True)
class _Command:
    name: str
    case_id: int | None
    rest: str


class ExpertDesk:
    """Handles every message from an expert on the roster, for one roster and its flows."""

    def __init__(self, router: Router, checkins: CheckinDesk | None = None) -> None:
        self.router = router
        self.checkins = checkins
        self.texts = router.texts
        check_commands(router.flows.routing)
        self.words = {normalize(w): name for name, words in router.flows.routing.commands.items()
                      for w in words}

    def turn(self, turn: TurnContext, expert: Expert, event: InboundEvent) -> None:
        desk = ExpertMessage(self, turn, expert)
        if event.option is not None:
            desk.payload(event.option)
        elif event.attachment is not None:
            desk.relay_file(event.attachment)
        elif event.location is not None:
            desk.relay_location(event.location)
        elif event.contact is not None:
            desk.relay_contact(event.contact)
        elif event.edited and event.text and event.text.strip():
            desk.edited(event.text.strip())
        elif event.text and event.text.strip():
            desk.typed(event.text.strip())
        else:
            desk.help()

    def parse(self, text: str) -> _Command | None:
        first, _, rest = text.partition(" ")
        name = self.words.get(normalize(first.lstrip("/").split("@")[0]))
        if name is None:
            return None
        number, _, remainder = rest.strip().partition(" ")
        match = _CASE_NUMBER.match(number)
        if match is None:
            return _Command(name, None, rest.strip())
        return _Command(name, int(match.group(1)), remainder.strip())


class ExpertMessage(TakingCases, CaseWork, TeamWork, RotaWork, ExpertRelay):
    """One expert message: what it asks, checked against what this expert may do."""

    # -- input ---------------------------------------------------------------------------

    def typed(self, text: str) -> None:
        active = db.active_case(self.db, self.expert.id)
        if text in ("1", "2") and active is None \
                and (offers := db.pending_handoffs_of(self.db, self.expert.id)):
            # Channels without buttons show the offer's options numbered: 1 takes it, 2
            # declines it (only when no case is open, where a digit is an answer).
            action = "accept" if text == "1" else "decline"
            self.payload(f"{HANDOFF_PREFIX}{offers[-1].id}:{action}")
            return
        command = self.desk.parse(text)
        if command is None:
            if text in ("1", "2") and self.repeated_press(active):
                return
            self.relay_text(text, active)
            return
        entry = EXPERT_COMMANDS[command.name]
        if entry.needs_case and command.case_id is None:
            self.help()
            return
        entry.run(self, command.case_id or 0, command.rest)

    def help(self) -> None:
        """The commands, built from bot/expert_commands.py and their lines in routing.yaml."""
        fields = self.lists()
        first, *lines, last = (self.texts.t(key, self.language, **fields) for key in help_lines())
        self.router.tell_expert(self.turn, None, self.expert,
                                "\n".join([first, *(f"• {line}" for line in lines), last]))

    def payload(self, payload: str) -> None:
        where, _, action = payload.removeprefix(HANDOFF_PREFIX).partition(":")
        handoff = db.handoff(self.db, int(where)) if (
            payload.startswith(HANDOFF_PREFIX) and where.isdigit()) else None
        if handoff is None or handoff.expert != self.expert.id or \
                action not in ("accept", "decline"):
            self.audit("denied", handoff.case_id if handoff else None, "payload")
            log.warning("expert.forged_payload expert=%s", self.expert.id)
            self.say("expert_not_yours", case=handoff.case_id if handoff else "?")
            return
        if action == "accept":
            self.accept(handoff.case_id, handoff)
        else:
            self.decline(handoff.case_id, handoff)
