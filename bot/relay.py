"""The person's side of a case an expert has taken: what they write goes to the expert
through the bot, so neither sees the other's account. "stop" and "mens" keep working, danger
words still get 112 at once, and the other commands (help, privacy, delete, ...) are handled
by the conversation as always. A blocked account's messages are kept with the case but not
passed on, and it is answered exactly as before, so nothing tells it about the block."""

from __future__ import annotations

from typing import Any

from bot.case_triage import signal_changes
from bot.conversation import ConversationLogic, Outcome, Reply, Snapshot
from bot.events import EVIDENCE_KINDS, Attachment, InboundEvent
from bot.routing import Router
from bot.understanding.signals import Alarm
from bot.write_buffer import TurnContext, carried
from config.experts import Expert
from storage import cases as db
from storage.case_status import CaseStatus
from storage.case_types import CaseInfo

RELAYED_COMMANDS = (None, "stop", "human")


class PersonRelay:
    def __init__(self, router: Router, logic: ConversationLogic) -> None:
        self.router = router
        self.logic = logic
        self.texts = router.texts

    def expert_for(self, case: CaseInfo | None, event: InboundEvent,
                   data: dict[str, Any]) -> Expert | None:
        """The expert this event goes to, or None when the conversation handles it."""
        if case is None or case.status != CaseStatus.ASSIGNED or case.assigned_expert is None:
            return None
        if data.get("confirm") or event.option is not None:
            return None
        if self.logic.commands.match((event.text or "").strip()) == "quick_exit":
            return None  # even in a burst: the chat is wiped, nothing goes to the expert
        if event.burst:
            return self.router.roster.by_id(case.assigned_expert)
        if event.attachment is None and event.location is None and event.contact is None:
            text = (event.text or "").strip()
            if not text or (not event.forwarded
                            and self.logic.commands.match(text) not in RELAYED_COMMANDS):
                return None
        return self.router.roster.by_id(case.assigned_expert)

    def turn(self, turn: TurnContext, case: CaseInfo, expert: Expert,
             snapshot: Snapshot, event: InboundEvent) -> Outcome:
        out = Outcome(flow=snapshot.flow, state=snapshot.state, status=snapshot.status,
                      language=snapshot.language, data=snapshot.data)
        language, name = snapshot.language, expert.first_name
        role = expert.role.get(language) if expert.role else self.texts.t("default_role",
                                                                           language)

        def to_expert(key: str, *, attachment: Attachment | None = None,
                      joins: bool = False, **fields: Any) -> None:
            text = fields.get("text")
            if isinstance(text, str):
                fields["text"], cut = self.texts.cap(text, expert.language, case.id)
                if cut:
                    say(self.texts.t("relay_long", language, name=name))
            if case.blocked:  # kept with the case as evidence; the person sees no difference
                turn.audit("person", "withheld", case.id, key.removeprefix("expert_"))
                return
            self.router.tell_expert(turn, case, expert,
                                    self.texts.t(key, expert.language, case=case.id, **fields),
                                    attachment=attachment,
                                    continued=fields.get("text") if joins else None)

        def say(text: str) -> None:
            out.replies.append(Reply(text))

        if event.location is not None:
            to_expert("expert_person_location", **event.location.text_fields())
            say(self.texts.t("relay_location", language, name=name))
            return out
        if event.contact is not None:
            to_expert("expert_person_contact", **event.contact.text_fields())
            return out
        if event.attachment is not None:
            attachment = event.attachment
            if attachment.kind == "unreadable":
                say(self.logic.flows.text("unreadable").get(language).format_map(
                    self.logic.facts))
            elif attachment.kind not in EVIDENCE_KINDS:
                say(self.texts.t("relay_unsupported", language))
            else:
                to_expert("expert_person_file", kind=attachment.kind,
                          attachment=carried(attachment, case.channel, expert.channel))
            return out
        text = (event.text or "").strip()
        alarm = self.logic.signals.check(text)
        if alarm:
            self._mark_urgent(turn, case, alarm, snapshot.flow)
            if event.advise:  # in a burst, once a short while
                for advice in self.logic.advice(alarm, language):
                    say(advice)
                to_expert("expert_person_danger")
        command = self.logic.commands.match(text)
        if event.burst:  # passed on, joined with the others of its batch
            to_expert("expert_from_person", text=text, joins=True)
        elif event.forwarded:  # the words of someone else: never a command
            to_expert("expert_from_person_forwarded", text=text)
        elif command == "stop":
            say(self.texts.t("relay_stop", language, name=name))
            to_expert("expert_person_stopped")
        elif command == "human":
            say(self.texts.t("relay_human", language, name=name, role=role))
            to_expert("expert_person_asks_human")
        elif event.edited:
            to_expert("expert_from_person_edited", text=text)
        else:
            to_expert("expert_from_person", text=text, joins=True)
        return out

    def _mark_urgent(self, turn: TurnContext, case: CaseInfo, alarm: Alarm,
                     flow: str) -> None:
        """The person's message to their expert signalled danger or a crisis: the case is
        urgent, and its level follows."""
        changes = signal_changes(
            self.logic.flows.triage, level=case.urgency, reasons=case.urgency_reasons,
            signals=case.signals, new_signals=alarm.kinds, flow=flow, now=turn.now)
        if not case.urgent:
            changes.update(urgent=True, urgent_at=turn.now)
        if changes:
            db.update_case(turn.db, case.id, turn.now, **changes)
