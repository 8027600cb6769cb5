"""The commands an expert types, one entry each. The words for a command are in
``flows/routing.yaml`` (``commands``), its line of the help in the text ``expert_help_<name>``;
:func:`check_commands` refuses at start a routing file whose commands or help lines do not
fit this table, and :func:`help_text` builds the help from it, so a new command is one entry
here, its words and its help line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flows.loader import FlowError
from flows.schema import LANGUAGES, Routing
from flows.text import normalize

if TYPE_CHECKING:
    from bot.experts import ExpertMessage


@dataclass(frozen=True)
class ExpertCommand:
    """``run(message, case number, the rest of the text)``; ``needs_case``: without a case
    number the expert gets the help instead."""

    name: str
    run: Callable[[ExpertMessage, int, str], None]
    needs_case: bool = True


EXPERT_COMMANDS: dict[str, ExpertCommand] = {command.name: command for command in (
    ExpertCommand("accept", lambda message, case, rest: message.accept(case, None)),
    ExpertCommand("decline", lambda message, case, rest: message.decline(case, None)),
    ExpertCommand("cases", lambda message, case, rest: message.list_cases(), needs_case=False),
    ExpertCommand("case", lambda message, case, rest: message.switch(case)),
    ExpertCommand("close", lambda message, case, rest: message.close(case, rest)),
    ExpertCommand("transfer", lambda message, case, rest: message.transfer(case, rest)),
    ExpertCommand("note", lambda message, case, rest: message.note(case, rest)),
    ExpertCommand("aftercare", lambda message, case, rest: message.aftercare(case, rest)),
    ExpertCommand("audit", lambda message, case, rest: message.read_audit(case)),
    ExpertCommand("full", lambda message, case, rest: message.read_full(case)),
    ExpertCommand("urgency", lambda message, case, rest: message.urgency(case, rest)),
    ExpertCommand("verify", lambda message, case, rest: message.verify(case, rest)),
    ExpertCommand("template", lambda message, case, rest: message.send_template(case, rest),
                  needs_case=False),
    ExpertCommand("consult", lambda message, case, rest: message.consult(case, rest)),
    ExpertCommand("block", lambda message, case, rest: message.block(case)),
    ExpertCommand("unblock", lambda message, case, rest: message.unblock(case)),
    ExpertCommand("calendar", lambda message, case, rest: message.calendar(),
                  needs_case=False),
    ExpertCommand("desk", lambda message, case, rest: message.desk_login(), needs_case=False),
    ExpertCommand("help", lambda message, case, rest: message.help(), needs_case=False),
)}
"""In the order the help lists them."""

HELP_FIRST, HELP_LAST = "expert_help", "expert_help_end"


def help_key(name: str) -> str:
    return f"expert_help_{name}"


def check_commands(routing: Routing) -> None:
    """The routing file's commands are exactly this table's, and each has a help line in every
    language that begins with one of its words."""
    if missing := [name for name in EXPERT_COMMANDS if name not in routing.commands]:
        raise FlowError(f"routing.yaml: missing commands {missing}")
    if unknown := sorted(set(routing.commands) - set(EXPERT_COMMANDS)):
        raise FlowError(f"routing.yaml: commands {unknown} are not in bot/expert_commands.py")
    for key in (HELP_FIRST, HELP_LAST, *map(help_key, EXPERT_COMMANDS)):
        if key not in routing.texts:
            raise FlowError(f"routing.yaml: missing text {key!r}")
    for name, words in routing.commands.items():
        own = {normalize(word) for word in words}
        for language in LANGUAGES:
            line = getattr(routing.texts[help_key(name)], language)
            if normalize(line.split(" ", 1)[0].rstrip(":")) not in own:
                raise FlowError(f"routing.yaml: the {language} help line of {name!r} must "
                                f"begin with one of its words {list(words)}")


def help_lines() -> tuple[str, ...]:
    """The text keys of the help, in order: the opening, a line per command, the close."""
    return (HELP_FIRST, *map(help_key, EXPERT_COMMANDS), HELP_LAST)
