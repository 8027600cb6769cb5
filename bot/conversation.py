"""The conversation logic, one instance for every conversation: (what we knew, what the person
did) -> (what we know, what we say).

Pure: no I/O and no platform. Storage loads a :class:`Snapshot`, this module computes an
:class:`Outcome`, and storage saves it in the same transaction as the replies. The work of one
turn is in :mod:`bot.conversation_turn` (what came in) and :mod:`bot.conversation_answers`
(the flow's steps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from bot.conversation_state import (
    ACTIVE,
    COMPLETED,
    CONFIRM_PREFIX,
    DEFAULT_CASE_KIND,
    DONE,
    PAUSED,
    Outcome,
    Reply,
    Snapshot,
    answer_key,
    fresh_data,
)
from bot.conversation_turn import ConversationTurn
from bot.events import InboundEvent
from bot.matching import Choice, CommandWords
from bot.person_commands import check_commands, help_keys
from bot.understanding.signals import Alarm, SignalDetector
from flows.loader import START_FLOW, FlowSet
from flows.schema import FLOW_PREFIX
from flows.text import normalize

__all__ = [
    "ACTIVE",
    "COMPLETED",
    "CONFIRM_PREFIX",
    "DEFAULT_CASE_KIND",
    "PAUSED",
    "ConversationLogic",
    "Outcome",
    "Reply",
    "Snapshot",
    "answer_key",
    "command_texts",
    "fresh_data",
    "option_texts",
    "option_words",
]
"""The conversation's data types live in :mod:`bot.conversation_state`; they are named here
too, where the rest of the bot has always found them."""


def option_texts(flows: FlowSet) -> set[str]:
    """Every answer the flows offer (labels and words), normalised."""
    return {text for flow in flows.flows.values() for step in flow.steps.values()
            for option in step.option_list
            for name in (*option.words, option.label.nl, option.label.en)
            if (text := normalize(name))}


def command_texts(flows: FlowSet) -> set[str]:
    """Every word of the person's commands ("hulp", "/stop"), normalised: a command is never
    taken for danger by the learned model (the word lists still hear "help")."""
    return {text for words in flows.system.commands.values() for word in words
            for text in (normalize(word), normalize(word.lstrip("/"))) if text}


def option_words(flows: FlowSet) -> set[str]:
    """Every single word people may answer an option with, as the flows name them."""
    return {word for text in option_texts(flows) for word in text.split()}


class ConversationLogic:
    """Interprets the flows. One instance serves every conversation."""

    def __init__(self, flows: FlowSet, facts: dict[str, str],
                 today: Callable[[], date] = date.today,
                 quick_exit: Iterable[str] = ("weg",)) -> None:
        """``quick_exit``: words that wipe the chat at once (see :data:`Outcome.wipe`)."""
        self.flows = flows
        self.facts = facts
        self.today = today
        check_commands(flows.system)
        self.commands = CommandWords(flows.system, {"quick_exit": quick_exit})
        self.signals = SignalDetector(flows.signals, ordinary=option_words(flows),
                                      model=flows.signal_model,
                                      answers=option_texts(flows) | command_texts(flows))
        self.step_choices: dict[tuple[str, str], list[Choice]] = {
            (f.flow, name): [Choice.of(o) for o in step.option_list]
            for f in flows.flows.values() for name, step in f.steps.items()
        }
        self.yes_no = [
            Choice("yes", frozenset({"ja", "j", "yes", "y", "1"})),
            Choice("no", frozenset({"nee", "n", "no", "2"})),
        ]
        self.done = Choice(DONE, frozenset({"klaar", "done", "gereed", "ready"}))
        self.wipe_choices = [
            Choice("yes", frozenset({"ja", "j", "yes", "y", "1"})),
            Choice("silent", frozenset({"2", "niets", "nothing", "niets achterlaten"})),
            Choice("no", frozenset({"nee", "n", "no", "3"})),
        ]

    def confirm_choices(self, action: str) -> list[Choice]:
        return self.wipe_choices if action == "wipe" else self.yes_no

    def start(self, language: str, *, returning: bool = False) -> Snapshot:
        return Snapshot(known=False, flow=START_FLOW, state=self.flows.flows[START_FLOW].start,
                        status=ACTIVE, language=language, data=fresh_data(),
                        returning=returning)

    def begin(self, flow: str, language: str, data: dict[str, Any]) -> Outcome:
        """A conversation the bot starts (a check-in): the new state and its first words.
        ``data`` is kept with the conversation (e.g. which case it is about)."""
        snapshot = self.start(language)
        out = Outcome(flow=snapshot.flow, state=snapshot.state, status=ACTIVE,
                      language=language, data={**snapshot.data, **data})
        ConversationTurn(self, out, InboundEvent("", "", ""), known=True).enter(FLOW_PREFIX + flow)
        return out

    def resume(self, snapshot: Snapshot, intro: str) -> Outcome:
        """The conversation as it stands, with ``intro`` said before its question (after
        an account was linked, say)."""
        out = Outcome(flow=snapshot.flow, state=snapshot.state,
                      status=ACTIVE if snapshot.status == PAUSED else snapshot.status,
                      language=snapshot.language, data=dict(snapshot.data))
        turn = ConversationTurn(self, out, InboundEvent("", "", ""), known=True)
        turn.say(intro)
        turn.ask()
        return out

    def help_text(self, language: str) -> str:
        """The help, built from the person's commands (bot/person_commands.py): its opening,
        a line for each command that has one, and its close."""
        first, *lines, last = (self.flows.text(key).get(language).format_map(self.facts)
                               for key in help_keys())
        return "\n".join([first, *(f"• {line}" for line in lines)]) + f"\n\n{last}"

    def advice(self, alarm: Alarm, language: str) -> list[str]:
        """What the bot says at once when a message signals danger (112) or a crisis (113):
        the same wherever it is heard, in the conversation or on its way to an expert."""
        return [self.flows.text(kind).get(language).format_map(self.facts)
                for kind, heard in (("danger", alarm.danger), ("crisis", alarm.crisis)) if heard]

    @staticmethod
    def unchanged(snapshot: Snapshot, text: str) -> Outcome:
        """Only ``text`` is said; the conversation stays as it is."""
        return Outcome(flow=snapshot.flow, state=snapshot.state, status=snapshot.status,
                       language=snapshot.language, data=snapshot.data, replies=[Reply(text)])

    def burst(self, snapshot: Snapshot, event: InboundEvent) -> Outcome:
        """A message of a burst (see :mod:`bot.flood`): kept with the report and marked urgent
        when it signals danger, not taken as an answer; only the danger advice is said, and
        only when ``event.advise``. The conversation stays where it is."""
        out = Outcome(flow=snapshot.flow, state=snapshot.state, status=snapshot.status,
                      language=snapshot.language, data=snapshot.data)
        ConversationTurn(self, out, event, known=snapshot.known).burst()
        return out

    def turn(self, snapshot: Snapshot, event: InboundEvent) -> Outcome:
        data = dict(snapshot.data)
        data["answers"] = dict(data.get("answers", {}))
        data["history"] = list(data.get("history", []))
        data["selection"] = list(data.get("selection", []))
        out = Outcome(flow=snapshot.flow, state=snapshot.state, status=snapshot.status,
                      language=snapshot.language, data=data)
        ConversationTurn(self, out, event, known=snapshot.known, returning=snapshot.returning).run()
        return out
