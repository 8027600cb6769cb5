"""One turn of a conversation: (what we knew, what the person did) -> (what we know, what we say).

Pure: no I/O and no platform. Storage loads a :class:`Snapshot`, this module computes an
:class:`Outcome`, and storage saves it in the same transaction as the replies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.events import EVIDENCE_KINDS, InboundEvent, OutboundOption, SharedContact
from bot.matching import Choice, CommandWords, candidates, match_choices
from bot.person_commands import PERSON_COMMANDS, check_commands
from bot.understanding.dates import understand_date
from bot.understanding.language import first_language
from bot.understanding.signals import SignalDetector
from bot.validation import parse_email, parse_phone
from flows.loader import START_FLOW, FlowSet
from flows.machine import ANSWER, PROCEED, choose, edit
from flows.schema import FLOW_PREFIX, Flow, Step
from flows.summary import day_in_words, format_answer, month_in_words
from flows.text import normalize

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


def option_texts(flows: FlowSet) -> set[str]:
    """Every answer the flows offer (labels and words), normalised."""
    return {text for flow in flows.flows.values() for step in flow.steps.values()
            for option in step.option_list
            for name in (*option.words, option.label.nl, option.label.en)
            if (text := normalize(name))}


def option_words(flows: FlowSet) -> set[str]:
    """Every single word people may answer an option with, as the flows name them."""
    return {word for text in option_texts(flows) for word in text.split()}


def fresh_data() -> dict[str, Any]:
    return {"answers": {}, "history": [], "selection": [], "unclear": 0,
            "confirm": None, "correcting": False}


def answer_key(flow: str, step: str) -> str:
    return f"{flow}.{step}"


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
                                      model=flows.signal_model, answers=option_texts(flows))
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


class ConversationTurn:
    """The work of one turn, writing into ``out``."""

    def __init__(self, logic: ConversationLogic, out: Outcome, event: InboundEvent,
                 known: bool, returning: bool = False) -> None:
        self.logic = logic
        self.flows = logic.flows
        self.out = out
        self.event = event
        self.known = known
        self.returning = returning
        self.alarmed = False

    # -- texts ---------------------------------------------------------------------------

    def t(self, key: str, **fields: str) -> str:
        return self.flows.text(key).get(self.out.language).format_map(
            {**self.logic.facts, **fields} if fields else self.logic.facts)

    def say(self, text: str, options: Iterable[OutboundOption] = ()) -> None:
        self.out.replies.append(Reply(text, tuple(options)))

    @property
    def flow(self) -> Flow:
        return self.flows.flows[self.out.flow]

    @property
    def step(self) -> Step:
        return self.flow.steps[self.out.state]

    @property
    def data(self) -> dict[str, Any]:
        return self.out.data

    # -- entry -----------------------------------------------------------------------------

    def run(self) -> None:
        event, text = self.event, self.event.text
        if not self.known and not self.returning:  # a new person: in the language they write
            self.out.language = first_language(None if event.forwarded else text,
                                               event.language_hint, self.out.language)
        alarm = self.logic.signals.check(text) if text and not self.menu_command(text) else None
        self.alarmed = bool(alarm and alarm.danger)
        if alarm:
            if alarm.danger:
                self.say(self.t("danger"))
            if alarm.crisis:
                self.say(self.t("crisis"))
            self.out.urgent = True
            self.out.signals.update(alarm.kinds)
            self.out.case_kind = self.out.case_kind or self.flow.case_kind or DEFAULT_CASE_KIND
        if text and self.logic.commands.match(text) == "quick_exit":
            self.data["confirm"] = None
            self.wipe("silent")
            return
        if not self.known:
            if event.location is not None:
                self.keep_evidence("location_saved")
            elif event.contact is not None:
                self.keep_evidence("contact_saved")
            elif event.forwarded or (event.attachment is not None
                                     and event.attachment.kind in EVIDENCE_KINDS):
                self.keep_evidence()
            self.first_contact(None if event.forwarded else text)
        elif event.location is not None:
            self.keep_evidence("location_saved", ask=True)
        elif event.contact is not None:
            self.contact(event.contact)
        elif event.edited:
            self.edited()
        elif event.forwarded:
            self.keep_evidence(ask=True)
        elif event.attachment is not None:
            self.attachment()
        elif event.option is not None:
            self.button(event.option)
        elif text is None or not text.strip():
            self.say(self.t("empty"))
            self.ask()
        elif self.data.get("confirm") and (yes_no := match_choices(
                text, self.logic.confirm_choices(self.data["confirm"]), exact_only=True)):
            self.confirmation(yes_no)
        elif (command := self.logic.commands.match(text)) is not None:
            self.data["confirm"] = None
            self.command(command)
        elif self.data.get("confirm"):
            self.confirmation([])
        elif self.out.status == PAUSED:
            self.out.status = ACTIVE
            self.say(self.t("resumed"))
            self.ask()
        else:
            self.answer_typed(text)

    def burst(self) -> None:
        text = self.event.text or ""
        alarm = self.logic.signals.check(text) if text else None
        self.out.attach_to_case = True
        self.out.case_kind = self.flow.case_kind or DEFAULT_CASE_KIND
        if alarm:
            self.out.urgent = True
            self.out.signals.update(alarm.kinds)
            if self.event.advise:
                if alarm.danger:
                    self.say(self.t("danger"))
                if alarm.crisis:
                    self.say(self.t("crisis"))
        command = self.logic.commands.match(text)
        if command == "human":
            self.out.human = True
            if self.event.advise and not alarm:
                self.say(self.t("human"))
        elif command == "quick_exit":  # typed in a hurry too: it must still work
            self.out.replies.clear()
            self.wipe("silent")

    def menu_command(self, text: str) -> bool:
        """``/help`` and the like come from the chat app's command menu: never an alarm, even
        where the bare word ("help") is one."""
        return text.lstrip().startswith("/") and self.logic.commands.match(text) is not None

    def first_contact(self, text: str | None) -> None:
        command = self.logic.commands.match(text) if text else None
        if command in ("english", "dutch"):
            self.out.language = "en" if command == "english" else "nl"
        self.say(self.t("welcome_back" if self.returning else "welcome"))
        if command == "human":
            self.enter(FLOW_PREFIX + "contact")
        elif command in ("privacy", "help"):  # someone may want to know this before anything
            self.say(self.t(command))
            self.ask()
        elif command is None and text and (ids := match_choices(text, self.choices())):
            self.answer(ids, pressed=False)
        else:
            self.ask()

    # -- inputs other than a typed answer ------------------------------------------------

    def edited(self) -> None:
        """An earlier message changed in the chat app. It cannot change the answer it was,
        so say so; during an intake it is kept with the case for whoever helps."""
        if self.flow.case_kind:
            self.out.attach_to_case = True
        self.say(self.t("edited"))
        self.ask()

    def contact(self, card: SharedContact) -> None:
        """Their own card where a phone number is asked is the answer; any other card (often
        the number that threatens them) is kept with the report."""
        if card.own and self.step.validate_as == "phone" and not self.data.get("confirm"):
            self.answer_typed(card.phone)
            return
        self.keep_evidence("contact_saved", ask=True)

    def attachment(self) -> None:
        attachment = self.event.attachment
        assert attachment is not None
        if attachment.kind in EVIDENCE_KINDS:
            self.keep_evidence()
        elif attachment.kind == "unreadable":
            self.say(self.t("unreadable"))
        else:
            self.say(self.t("attachment_unsupported"))
        if self.step.type != "end":
            self.ask()

    def keep_evidence(self, thanks: str = "attachment_saved", ask: bool = False) -> None:
        """Keep the message with the case and say so; ``ask``: then the question again."""
        self.out.attach_to_case = True
        self.out.case_kind = self.out.case_kind or self.flow.case_kind or DEFAULT_CASE_KIND
        self.say(self.t(thanks))
        if ask and self.step.type != "end":
            self.ask()

    def button(self, payload: str) -> None:
        if payload.startswith(CONFIRM_PREFIX):
            if self.data.get("confirm"):
                self.confirmation([payload.removeprefix(CONFIRM_PREFIX)])
            else:
                self.stale()
            return
        where, _, option_id = payload.partition(":")
        if where != f"{self.out.flow}.{self.out.state}" or self.data.get("confirm"):
            self.stale()
            return
        self.out.status = ACTIVE if self.out.status == PAUSED else self.out.status
        self.answer([option_id], pressed=True)

    def stale(self) -> None:
        self.say(self.t("stale_button"))
        self.ask()

    def confirmation(self, chosen: list[str]) -> None:
        action = self.data["confirm"]
        self.data["confirm"] = None
        if action == "wipe" and chosen in (["yes"], ["silent"]):
            self.wipe("notice" if chosen == ["yes"] else "silent")
            return
        if chosen != ["yes"]:
            self.say(self.t(f"{action}_cancelled"))
            self.ask()
        elif action == "delete":
            self.out.erase = True
            self.say(self.t("deleted"))
        else:
            self.out.abandon_case = True
            self.restart()

    def wipe(self, how: str) -> None:
        """Remove the chat from the device; nothing is said now (the neutral last message comes
        after the removal). The next message continues the conversation where it was."""
        self.out.wipe = how
        if self.out.status == ACTIVE:
            self.out.status = PAUSED

    def command(self, command: str) -> None:
        """A command of bot/person_commands.py; all but ``stop``, ``delete`` and ``wipe``
        resume a paused conversation."""
        entry = PERSON_COMMANDS[command]
        assert entry.run is not None, f"{command} is answered in {entry.handled_by}"
        entry.run(self, command)
        if self.out.status == PAUSED and not entry.keeps_pause:
            self.out.status = ACTIVE

    def say_and_ask(self, key: str) -> None:
        self.say(self.t(key))
        self.ask()

    def pause(self) -> None:
        self.out.status = PAUSED
        self.out.stop_checkins = True
        self.say(self.t("paused"))

    def ask_for_a_person(self) -> None:
        if self.out.flow == START_FLOW:
            self.enter(FLOW_PREFIX + "contact")
            return
        self.out.human = True
        self.out.case_kind = self.out.case_kind or self.flow.case_kind or DEFAULT_CASE_KIND
        self.say_and_ask("human")

    def confirm_first(self, command: str) -> None:
        """``delete``, ``restart``, ``wipe``: asked to confirm (a restart with nothing
        answered yet needs none)."""
        if command == "restart" and not self.data["answers"]:
            self.restart()
            return
        self.data["confirm"] = command
        self.say(self.t(f"{command}_confirm"), self.confirm_options(command))

    def switch_language(self, command: str) -> None:
        if command == "language":
            self.out.language = "en" if self.out.language == "nl" else "nl"
        else:
            self.out.language = "en" if command == "english" else "nl"
        self.say_and_ask("language_set")

    def resume(self) -> None:
        self.say_and_ask("resumed")

    def confirm_options(self, action: str) -> list[OutboundOption]:
        if action == "wipe":
            return [OutboundOption(CONFIRM_PREFIX + "yes", self.t("wipe_yes")),
                    OutboundOption(CONFIRM_PREFIX + "silent", self.t("wipe_silent")),
                    OutboundOption(CONFIRM_PREFIX + "no", self.t("confirm_no"))]
        return [OutboundOption(CONFIRM_PREFIX + "yes", self.t("confirm_yes")),
                OutboundOption(CONFIRM_PREFIX + "no", self.t("confirm_no"))]

    def restart(self) -> None:
        self.out.new_conversation = True
        self.out.data = fresh_data()
        self.out.flow = START_FLOW
        self.out.state = self.flows.flows[START_FLOW].start
        self.out.status = ACTIVE
        self.ask()

    def back(self) -> None:
        history = self.data["history"]
        if self.step.type == "end" or not history:
            self.say(self.t("back_first"))
            self.ask()
            return
        flow, state = history.pop()
        self.out.flow, self.out.state = flow, state
        self.data["selection"], self.data["unclear"] = [], 0
        self.ask(show_previous=True)

    # -- answers ---------------------------------------------------------------------------

    def choices(self) -> list[Choice]:
        choices = list(self.logic.step_choices[(self.out.flow, self.out.state)])
        if self.step.type == "correct":
            choices = [*self.edit_choices(), *choices]
        if self.step.multi and self.data["selection"]:
            choices.append(self.logic.done)
        return choices

    def edit_choices(self) -> list[Choice]:
        result = []
        for name, _ in self.path_answers():
            label = self.flow.steps[name].summary
            assert label is not None
            names = frozenset({label.nl.casefold(), label.en.casefold()})
            result.append(Choice(f"edit:{name}", names))
        return result

    def answer_typed(self, text: str) -> None:
        step = self.step
        exact_only = step.type in ("text", "end")
        ids = match_choices(text, self.choices(), multi=step.multi, exact_only=exact_only)
        if ids:
            self.answer(ids, pressed=False)
        elif step.type == "text":
            self.answer_text(text)
        elif step.type == "end":
            self.out.attach_to_case = True
            self.say(self.t("addition_saved"))
        elif self.alarmed and (urgent := self.urgent_option()) is not None:
            # "hij is hier" at "bent u nu in gevaar?": that is a yes, and its own step says
            # to call 112 at once, so the general advice is not said as well
            general = self.t("danger")
            self.out.replies = [r for r in self.out.replies if r.text != general]
            self.answer([urgent], pressed=False)
        elif len(fitting := candidates(text, self.choices())) > 1 and not step.multi:
            labels = [self.option_label(i) for i in fitting]
            joined = self.t("or").join([", ".join(labels[:-1]), labels[-1]])
            self.say(self.t("which_of", options=joined))
            self.ask()
        else:
            self.unclear()

    def urgent_option(self) -> str | None:
        """The option of this question that leads to an urgent step (danger now), if any."""
        for option in self.step.option_list:
            target = option.next or self.step.next
            step = self.flow.steps.get(target or "")
            if step is not None and step.urgent:
                return option.id
        return None

    def unclear(self, reason: str = "unclear") -> None:
        self.data["unclear"] = int(self.data.get("unclear", 0)) + 1
        texts = [self.t(reason)]
        if self.data["unclear"] >= 2 and reason != "unclear":  # "unclear" names 'mens' itself
            texts.append(self.t("unclear_again"))
        self.say("\n".join(texts))
        self.ask()

    def answer_text(self, text: str) -> None:
        text = text.strip()  # a trailing newline would show as a blank line in the summary
        kind = self.step.validate_as
        answer: dict[str, Any] = {"text": text}
        if kind == "phone":
            value = parse_phone(text)
        elif kind == "email":
            value = parse_email(text)
        elif kind == "date":
            understood = understand_date(text, self.logic.today())
            value = understood.day.isoformat() if understood.day else None
            if value is None and understood.month is not None:
                self.unclear_date(month_in_words(understood.month, self.out.language))
                return
        else:
            value = text
        if value is None:
            said_yes = match_choices(text, self.logic.yes_no, exact_only=True) == ["yes"]
            self.unclear("date_which" if kind == "date" and said_yes else f"invalid_{kind}")
            return
        if kind:
            answer["value"] = value
        if kind == "date":
            self.say(self.t("date_understood", date=day_in_words(
                date.fromisoformat(value), self.out.language)))
        self.record(answer)
        self.move(ANSWER)

    def unclear_date(self, month: str) -> None:
        """A month without a day ("eind januari"): which day?"""
        self.data["unclear"] = int(self.data.get("unclear", 0)) + 1
        self.say(self.t("date_which_day", options=month))
        self.ask()

    def answer(self, ids: list[str], *, pressed: bool) -> None:
        step = self.step
        valid = {c.id for c in self.choices()}
        if not set(ids) <= valid:
            self.stale()
            return
        if step.multi:
            selection = self.data["selection"]
            if ids == [DONE]:
                ids = list(selection)
            elif pressed:
                selection.extend(i for i in ids if i not in selection)
                labels = [self.option_label(i) for i in selection]
                self.say("\n".join([self.t("multi_chosen"), *(f"• {x}" for x in labels),
                                    "", self.t("multi_more")]))
                self.ask(quiet=True)
                return
            self.record({"options": ids})
            self.move(ANSWER)
            return
        (chosen,) = ids
        if chosen.startswith("edit:"):
            self.data["correcting"] = True
            self.data["history"].append([self.out.flow, self.out.state])
            machine = self.flows.machines[self.out.flow]
            self.out.state = machine.next_state(self.out.state, edit(chosen.removeprefix("edit:")))
            self.ask(show_previous=True)
            return
        if step.type not in ("summary", "correct", "end"):
            self.record({"option": chosen})
        self.move(choose(chosen))

    def record(self, answer: dict[str, Any]) -> None:
        self.data["answers"][answer_key(self.out.flow, self.out.state)] = answer
        self.data["selection"], self.data["unclear"] = [], 0

    def move(self, trigger: str) -> None:
        machine = self.flows.machines[self.out.flow]
        dest = machine.next_state(self.out.state, trigger)
        if self.step.type not in ("info", "end"):
            self.data["history"].append([self.out.flow, self.out.state])
        self.enter(dest)

    def enter(self, dest: str) -> None:
        """Go to ``dest``: follow flow switches and info steps, then ask or conclude."""
        while True:
            if dest.startswith(FLOW_PREFIX):
                target = self.flows.flows[dest.removeprefix(FLOW_PREFIX)]
                if self.out.status == COMPLETED:
                    self.out.new_conversation = True
                    self.out.data = fresh_data()
                    self.out.status = ACTIVE
                self.out.flow = target.flow
                if target.case_kind:
                    self.out.case_kind = target.case_kind
                dest = target.start
                continue
            step = self.flow.steps[dest]
            if (self.data.get("correcting") and step.type not in ("info", "summary")
                    and answer_key(self.out.flow, dest) in self.data["answers"]):
                dest = next(n for n, s in self.flow.steps.items() if s.type == "summary")
                continue
            self.out.state = dest
            self.out.urgent = self.out.urgent or step.urgent
            if step.urgent:
                self.out.signals.add("danger")
            if step.human:
                self.out.human = True
            if step.stop_checkins:
                self.out.stop_checkins = True
            if step.type == "info":
                self.say(self.render(step.text.get(self.out.language)))
                dest = self.flows.machines[self.out.flow].next_state(dest, PROCEED)
                continue
            break
        step = self.step
        if step.type == "summary":
            self.data["correcting"] = False
        if step.type == "end":
            self.out.status = COMPLETED
            if step.submit:
                self.out.submit = self.intake()
        self.ask()

    # -- what we say -----------------------------------------------------------------------

    def render(self, text: str) -> str:
        return text.format_map(self.logic.facts)

    def option_label(self, option_id: str) -> str:
        if option_id == DONE:
            return self.t("multi_done_label")
        for option in self.step.option_list:
            if option.id == option_id:
                return option.label.get(self.out.language)
        return option_id

    def ask(self, *, show_previous: bool = False, quiet: bool = False) -> None:
        """Say the current question with its options."""
        if self.data.get("confirm"):
            action = self.data["confirm"]
            self.say(self.t(f"{action}_confirm"), self.confirm_options(action))
            return
        step, language = self.step, self.out.language
        where = f"{self.out.flow}.{self.out.state}"
        options = [OutboundOption(f"{where}:{o.id}", o.label.get(language))
                   for o in step.option_list]
        if step.type == "correct":
            options = [*(OutboundOption(f"{where}:{c.id}", self.summary_label(c.id))
                         for c in self.edit_choices()), *options]
        if step.multi and self.data["selection"]:
            options.append(OutboundOption(f"{where}:{DONE}", self.t("multi_done_label")))
        if quiet:
            self.out.replies[-1] = Reply(self.out.replies[-1].text, tuple(options))
            return
        parts = []
        if show_previous and (previous := self.data["answers"].get(
                answer_key(self.out.flow, self.out.state))):
            parts.append(f"{self.t('previous_answer')} {self.format_answer(step, previous)}")
        parts.append(self.render(step.text.get(language)))
        if step.type == "summary":
            lines = [f"• {self.summary_label(f'edit:{name}')}: {self.format_answer(s, a)}"
                     for name, a in self.path_answers()
                     for s in [self.flow.steps[name]]]
            parts.append("\n".join(lines) or self.t("summary_nothing"))
        if step.after is not None:
            parts.append(self.render(step.after.get(language)))
        self.say("\n\n".join(parts), options)

    def summary_label(self, edit_id: str) -> str:
        label = self.flow.steps[edit_id.removeprefix("edit:")].summary
        assert label is not None
        return label.get(self.out.language)

    def format_answer(self, step: Step, answer: dict[str, Any]) -> str:
        return format_answer(step, answer, self.out.language)

    def path_answers(self) -> list[tuple[str, dict[str, Any]]]:
        """The answers on the path the person actually took, in order."""
        flow, answers = self.flow, self.data["answers"]
        result: list[tuple[str, dict[str, Any]]] = []
        name: str | None = flow.start
        seen: set[str] = set()
        while name and not name.startswith(FLOW_PREFIX) and name not in seen:
            seen.add(name)
            step = flow.steps[name]
            if step.type == "info":
                name = step.next
                continue
            answer = answers.get(answer_key(flow.flow, name))
            if step.type in ("summary", "correct", "end") or answer is None:
                break
            if step.summary is not None:
                result.append((name, answer))
            option = next((o for o in step.option_list if o.id == answer.get("option")), None)
            name = (option.next if option else None) or step.next
        return result

    def intake(self) -> dict[str, Any]:
        return {"flow": self.out.flow, "language": self.out.language,
                "answers": dict(self.path_answers())}
