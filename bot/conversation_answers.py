"""Answering the steps of a flow: the part of a turn that understands what the person typed or
pressed at a question, records it, moves the flow on and asks the next question."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.conversation_state import (
    ACTIVE,
    COMPLETED,
    CONFIRM_PREFIX,
    DONE,
    Outcome,
    Reply,
    answer_key,
    fresh_data,
)
from bot.events import InboundEvent, OutboundOption
from bot.matching import Choice, candidates, match_choices
from bot.understanding.dates import DATE_WORDS, understand_date
from bot.understanding.past import period_of, understand_past_day
from bot.validation import parse_email, parse_phone
from flows.machine import ANSWER, PROCEED, choose, edit
from flows.schema import FLOW_PREFIX, Flow, Step
from flows.summary import day_in_words, format_answer, month_in_words

SHORT_ANSWER_WORDS = 4
"""A free answer of at most this many words that names one option is taken as that option (the
words are kept beside it); a longer one is a story and is kept as typed."""

if TYPE_CHECKING:
    from bot.conversation import ConversationLogic


class AnswerSteps:
    """The steps of a flow in one turn: understanding an answer, moving on, asking the next
    question (the rest of a turn is :class:`bot.conversation_turn.ConversationTurn`)."""

    def __init__(self, logic: ConversationLogic, out: Outcome, event: InboundEvent,
                 known: bool, returning: bool = False) -> None:
        self.logic = logic
        self.flows = logic.flows
        self.out = out
        self.event = event
        self.known = known
        self.returning = returning
        self.alarmed = False
        """Danger was heard in this message."""
        self.heard = False
        """Danger or a crisis was heard in this message."""

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
        # typed in a hurry ("wethuoder", "mijnadres staat online"): first the answer as the
        # speller reads it (it changes only words it does not know), then as typed. A message
        # of danger or crisis names an option only by its words as read, not in other forms:
        # those meet options by chance ("er staat iemand" is not "staten", "right now" not
        # "rights"); if it names none, it is kept with the case and the question asked again
        meant = self.logic.signals.speller.as_meant(
            text, expected={word for choice in self.choices() for name in choice.names
                            for word in name.split()})
        ids = [] if meant == text else match_choices(meant, self.choices(), multi=step.multi,
                                                     exact_only=exact_only, as_typed=self.heard)
        ids = ids or match_choices(text, self.choices(), multi=step.multi,
                                   exact_only=exact_only, as_typed=self.heard)
        if ids:
            self.answer(ids, pressed=False)
        elif step.type == "text" and (loose := self.named_in_short_answer(text, meant)
                                      or self.period_named(text, meant)):
            # "gisteravond laat" or "afgelopen maandag" at "wanneer?": that option, and their
            # own words are kept
            self.record({"option": loose, "text": text.strip()})
            self.move(choose(loose))
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
        elif self.heard:
            # not an answer, and the advice was said: keep the message for the team, and ask
            # again without a "sorry, I did not understand"; "ze hebben me uitgescholden en
            # geduwd" names two options: which one?
            self.out.attach_to_case = True
            self.say(self.t("alarm_kept"))
            fitting = [] if step.multi else candidates(text, self.choices(), as_typed=True)
            if len(fitting) > 1:
                self.which_of(fitting)
            else:
                self.ask()
        elif len(fitting := candidates(text, self.choices())
                 or candidates(meant, self.choices())) > 1 and not step.multi:
            self.which_of(fitting)
        else:
            self.unclear()

    def which_of(self, fitting: list[str]) -> None:
        """Two or more options fit: ask which one, naming them."""
        labels = [self.option_label(i) for i in fitting]
        joined = self.t("or").join([", ".join(labels[:-1]), labels[-1]])
        self.say(self.t("which_of", options=joined))
        self.ask()

    def named_in_short_answer(self, text: str, meant: str) -> str | None:
        """The one option a short free answer names ("gisteravond laat", "vorige week
        dinsdag"), at a free-text question that offers options and takes no phone, e-mail or
        date; None when it names none or several, or the message raised an alarm."""
        if self.heard or self.step.validate_as or len(text.split()) > SHORT_ANSWER_WORDS:
            return None
        ids = match_choices(meant, self.choices()) or match_choices(text, self.choices())
        return ids[0] if len(ids) == 1 else None

    def period_named(self, text: str, meant: str) -> str | None:
        """At a question of when it happened, the option of the period of the day typed
        ("afgelopen maandag": this week); None when no day gone by is named, or the message
        raised an alarm."""
        periods = {o.period: o.id for o in self.step.option_list if o.period}
        if self.heard or not periods:
            return None
        today = self.logic.today()
        day = understand_past_day(meant, today) or understand_past_day(text, today)
        return periods.get(period_of(day, today)) if day else None

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
            # first as the speller reads it ("op 8 jankari" is not 8 December), then as typed
            meant = self.logic.signals.speller.as_meant(text, compounds=True,
                                                        expected=DATE_WORDS)
            understood = understand_date(meant, self.logic.today())
            if understood.day is None and understood.month is None and meant != text:
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

    def stale(self) -> None:
        self.say(self.t("stale_button"))
        self.ask()

    def confirm_options(self, action: str) -> list[OutboundOption]:
        if action == "wipe":
            return [OutboundOption(CONFIRM_PREFIX + "yes", self.t("wipe_yes")),
                    OutboundOption(CONFIRM_PREFIX + "silent", self.t("wipe_silent")),
                    OutboundOption(CONFIRM_PREFIX + "no", self.t("confirm_no"))]
        return [OutboundOption(CONFIRM_PREFIX + "yes", self.t("confirm_yes")),
                OutboundOption(CONFIRM_PREFIX + "no", self.t("confirm_no"))]

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
