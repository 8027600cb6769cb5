"""The turns about the person's accounts rather than their report: asking for a link code,
sending one from another account, and taking an account off again (see :mod:`bot.linking`).
They come before the relay and the conversation, so a code is never passed on to an expert
or taken as an answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from bot.conversation import ConversationLogic, Outcome
from bot.events import InboundEvent
from bot.linking import code_in, request_code, spaced, try_code, unlink
from bot.person_state import PersonState
from bot.write_buffer import TurnContext
from storage import links
from storage import repository as repo

RELINKED = "relinked"


@dataclass(frozen=True)
class AccountTurn:
    outcome: Outcome
    changed: str | None = None
    """:data:`RELINKED` when accounts were joined or parted."""


class AccountDesk:
    def __init__(self, logic: ConversationLogic,
                 load: Callable[[Connection, InboundEvent, repo.PersonRow | None], PersonState],
                 ) -> None:
        self.logic = logic
        self.load = load

    def t(self, key: str, language: str, **fields: str) -> str:
        return self.logic.flows.text(key).get(language).format_map(
            {**self.logic.facts, **fields})

    def turn(self, turn: TurnContext, state: PersonState, event: InboundEvent,
             ) -> AccountTurn | None:
        text = event.text
        if text is None or event.option is not None or event.attachment is not None \
                or event.edited or event.forwarded or event.burst:
            return None
        snapshot, language = state.snapshot, state.snapshot.language
        command = self.logic.commands.match(text)
        if command == "link":
            key, code = request_code(turn.db, state.person_id, turn.now)
            said = self.t(key, language, code=spaced(code) if code else "")
            return AccountTurn(self.logic.resume(snapshot, said))
        if command == "unlink":
            turn.writes.flush(turn.db)
            key = unlink(turn.db, state.identity_id or state.person_id, state.person_id)
            return AccountTurn(self.logic.unchanged(snapshot, self.t(key, language)),
                               RELINKED if key == "unlinked" else None)
        code = code_in(text)
        if code is None:
            return None
        turn.writes.flush(turn.db)
        linked = try_code(turn.db, code, state.identity_id or state.person_id, state.person_id,
                          turn.now)
        if linked.owner is None:
            return AccountTurn(self.logic.resume(snapshot, self.t(linked.key, language)))
        # This account is now one of the person's: go on with their conversation.
        found = repo.load_people(turn.db, [(event.channel, event.sender)])
        joined = self.load(turn.db, event, found.get((event.channel, event.sender)))
        state.person_id, state.conversation_id = joined.person_id, joined.conversation_id
        state.snapshot, state.identity_id = joined.snapshot, joined.identity_id
        state.reply_identity_id = joined.reply_identity_id
        language = state.snapshot.language
        for identity_id, channel, address in links.identities_of(turn.db, state.person_id):
            if identity_id != state.identity_id:
                turn.writes.post(turn.result, channel=channel, address=address,
                                 text=self.t("linked_other", language), language=language,
                                 person_id=state.person_id)
        return AccountTurn(self.logic.resume(state.snapshot, self.t("linked", language)),
                           RELINKED)
