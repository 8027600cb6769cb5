"""One turn of a conversation: what came in (a typed answer, a button, a file, a command, a
first message) and what the person is told."""

from __future__ import annotations

from bot.conversation_answers import AnswerSteps
from bot.conversation_state import (
    ACTIVE,
    CONFIRM_PREFIX,
    DEFAULT_CASE_KIND,
    PAUSED,
    fresh_data,
)
from bot.events import EVIDENCE_KINDS, SharedContact
from bot.matching import match_choices
from bot.person_commands import PERSON_COMMANDS
from bot.understanding.language import first_language
from flows.loader import START_FLOW
from flows.schema import FLOW_PREFIX


class ConversationTurn(AnswerSteps):
    """The work of one turn, writing into ``out``."""

    # -- entry -----------------------------------------------------------------------------

    def run(self) -> None:
        event, text = self.event, self.event.text
        if not self.known and not self.returning:  # a new person: in the language they write
            self.out.language = first_language(None if event.forwarded else text,
                                               event.language_hint, self.out.language)
        alarm = self.logic.signals.check(text) if text and not self.menu_command(text) else None
        self.alarmed = bool(alarm and alarm.danger)
        self.heard = bool(alarm)
        if alarm:
            for advice in self.logic.advice(alarm, self.out.language):
                self.say(advice)
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
                for advice in self.logic.advice(alarm, self.out.language):
                    self.say(advice)
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
            self.say_and_ask(command)
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
        entry.run(self, command)
        if self.out.status == PAUSED and not entry.keeps_pause:
            self.out.status = ACTIVE

    def say_and_ask(self, key: str) -> None:
        self.say(self.logic.help_text(self.out.language) if key == "help" else self.t(key))
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
