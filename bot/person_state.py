"""A person and their conversation as a batch of turns has them now."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from bot.conversation import ConversationLogic, Snapshot
from bot.events import InboundEvent
from storage import cases
from storage import repository as repo


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


def load_state(connection: Connection, logic: ConversationLogic, event: InboundEvent,
               row: repo.PersonRow | None, default_language: str) -> PersonState:
    """The person who wrote ``event`` (``row`` as read, None for someone new) with their
    current conversation; a new person, or one whose conversation ended, gets a new one."""
    if row is not None and row.conversation_id is not None \
            and row.status != cases.CONVERSATION_CLOSED:
        snapshot = Snapshot(known=True, flow=row.flow, state=row.state, status=row.status,
                            language=row.conversation_language, data=row.data)
        return PersonState(row.person_id, row.conversation_id, snapshot, event.channel,
                           event.sender, row.identity_id, row.reply_identity_id)
    if row is None:
        language = default_language
        person_id = repo.insert_person(connection, event.channel, event.sender, language)
        identity_id, reply_identity_id = person_id, None
    else:
        person_id, language = row.person_id, row.language
        identity_id, reply_identity_id = row.identity_id, row.reply_identity_id
    snapshot = logic.start(language, returning=row is not None)
    conversation_id = repo.insert_conversation(
        connection, person_id, flow=snapshot.flow, state=snapshot.state,
        status=snapshot.status, language=snapshot.language, data=snapshot.data)
    return PersonState(person_id, conversation_id, snapshot, event.channel, event.sender,
                       identity_id, reply_identity_id)
