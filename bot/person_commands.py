"""The commands a person types (``stop``, ``hulp``, ``mens``, ...), one entry each. Their words
are in ``flows/system.yaml`` (``commands``); :func:`check_commands` refuses at start a system
file whose commands do not fit this table. A new command is one entry here and its words (and
the texts it says, in both languages)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flows.loader import FlowError
from flows.schema import LANGUAGES, System
from flows.text import normalize

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
    in_help: bool = False
    """The help has a line for it: the text ``help_<name>``."""


def _help(turn: ConversationTurn, name: str) -> None:
    turn.say_and_ask(name)


def _confirm_first(turn: ConversationTurn, name: str) -> None:
    turn.confirm_first(name)


def _language(turn: ConversationTurn, name: str) -> None:
    turn.switch_language(name)


PERSON_COMMANDS: dict[str, PersonCommand] = {command.name: command for command in (
    PersonCommand("human", lambda turn, name: turn.ask_for_a_person(), in_help=True),
    PersonCommand("back", lambda turn, name: turn.back(), in_help=True),
    PersonCommand("stop", lambda turn, name: turn.pause(), keeps_pause=True, in_help=True),
    PersonCommand("restart", _confirm_first, in_help=True),
    PersonCommand("language", _language, in_help=True),
    PersonCommand("privacy", _help, in_help=True),
    PersonCommand("wipe", _confirm_first, keeps_pause=True, in_help=True),
    PersonCommand("link", lambda turn, name: turn.resume(), handled_by="bot/accounts.py",
                  in_help=True),
    PersonCommand("delete", _confirm_first, keeps_pause=True, in_help=True),
    PersonCommand("help", _help),
    PersonCommand("english", _language),
    PersonCommand("dutch", _language),
    PersonCommand("start", lambda turn, name: turn.resume()),
    PersonCommand("unlink", lambda turn, name: turn.resume(), handled_by="bot/accounts.py"),
)}
"""The commands with a line in the help come first, in the order the help lists them."""
HELP_FIRST, HELP_LAST = "help", "help_end"


def help_keys() -> tuple[str, ...]:
    """The text keys of the help, in order: the opening, a line per command, the close."""
    return (HELP_FIRST, *(f"help_{name}" for name, command in PERSON_COMMANDS.items()
                          if command.in_help), HELP_LAST)


def check_commands(system: System) -> None:
    """The system file's commands are exactly this table's, and each line of the help begins
    with one of its command's words, in every language."""
    if missing := [name for name in PERSON_COMMANDS if name not in system.commands]:
        raise FlowError(f"system.yaml: missing commands {missing}")
    if unknown := sorted(set(system.commands) - set(PERSON_COMMANDS)):
        raise FlowError(f"system.yaml: commands {unknown} are not in bot/person_commands.py")
    if missing := [key for key in help_keys() if key not in system.texts]:
        raise FlowError(f"system.yaml: missing texts {missing}")
    for name, command in PERSON_COMMANDS.items():
        if not command.in_help:
            continue
        own = {normalize(word) for word in system.commands[name]}
        for language in LANGUAGES:
            line = getattr(system.texts[f"help_{name}"], language)
            if normalize(line.split(" ", 1)[0].rstrip(":")) not in own:
                raise FlowError(f"system.yaml: the {language} help line of {name!r} must "
                                f"begin with one of its words")
