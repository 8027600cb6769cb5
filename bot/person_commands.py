"""The commands a person types (``stop``, ``hulp``, ``mens``, ...), one entry each. Their words
are in ``flows/system.yaml`` (``commands``); :func:`check_commands` refuses at start a system
file whose commands do not fit this table. A new command is one entry here and its words (and
the texts it says, in both languages)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flows.loader import FlowError
from flows.schema import System

if TYPE_CHECKING:
    from bot.conversation_turn import ConversationTurn


@dataclass(frozen=True)
class PersonCommand:
    """``run(turn, name)`` answers it in the conversation; ``handled_by``: where it is answered
    before the conversation is asked (then the conversation only goes on, should it see it).
    ``keeps_pause``: a paused conversation stays paused after it (the others resume it)."""

    name: str
    run: Callable[[ConversationTurn, str], None]
    keeps_pause: bool = False
    handled_by: str = ""


def _help(turn: ConversationTurn, name: str) -> None:
    turn.say_and_ask(name)


def _confirm_first(turn: ConversationTurn, name: str) -> None:
    turn.confirm_first(name)


def _language(turn: ConversationTurn, name: str) -> None:
    turn.switch_language(name)


PERSON_COMMANDS: dict[str, PersonCommand] = {command.name: command for command in (
    PersonCommand("help", _help),
    PersonCommand("privacy", _help),
    PersonCommand("stop", lambda turn, name: turn.pause(), keeps_pause=True),
    PersonCommand("human", lambda turn, name: turn.ask_for_a_person()),
    PersonCommand("delete", _confirm_first, keeps_pause=True),
    PersonCommand("wipe", _confirm_first, keeps_pause=True),
    PersonCommand("restart", _confirm_first),
    PersonCommand("language", _language),
    PersonCommand("english", _language),
    PersonCommand("dutch", _language),
    PersonCommand("back", lambda turn, name: turn.back()),
    PersonCommand("start", lambda turn, name: turn.resume()),
    PersonCommand("link", lambda turn, name: turn.resume(), handled_by="bot/accounts.py"),
    PersonCommand("unlink", lambda turn, name: turn.resume(), handled_by="bot/accounts.py"),
)}


def check_commands(system: System) -> None:
    """The system file's commands are exactly this table's."""
    if missing := [name for name in PERSON_COMMANDS if name not in system.commands]:
        raise FlowError(f"system.yaml: missing commands {missing}")
    if unknown := sorted(set(system.commands) - set(PERSON_COMMANDS)):
        raise FlowError(f"system.yaml: commands {unknown} are not in bot/person_commands.py")
