"""Passing an expert's messages (text, edits, places, contacts, files, the team's vetted
texts) on to the person of their current case, kept with the case."""

from __future__ import annotations

import logging

from bot.events import EVIDENCE_KINDS, Attachment, Location, SharedContact
from bot.expert_base import ExpertBase
from bot.first_contact import contact_made
from bot.write_buffer import attachment_body, carried
from flows.text import normalize
from storage import cases as db
from storage import repository as repo
from storage.case_types import CaseInfo

log = logging.getLogger(__name__)


class ExpertRelay(ExpertBase):
    def active_case(self, active: int | None) -> CaseInfo | None:
        case = db.load_case(self.db, active) if active is not None else None
        if case is None or not case.is_with(self.expert.id):
            self.say("expert_no_active_case")
            return None
        return case

    def keep(self, case: CaseInfo, body: dict[str, object]) -> None:
        row = repo.message_row(channel=self.expert.channel, address=self.expert.channel_id,
                               direction=repo.INBOUND, kind=db.EXPERT_MESSAGE, body=body,
                               person_id=case.person_id, conversation_id=None, now=self.turn.now)
        row["case_id"] = case.id
        self.turn.writes.keep(row)
        if case.first_answer_at is None:
            db.update_case(self.db, case.id, self.turn.now, first_answer_at=self.turn.now)
        contact_made(self.turn, case)
        self.audit("relay", case.id)

    def repeated_press(self, active: int | None) -> bool:
        """A bare 1 or 2 right after taking a case, before writing to the person, is the
        offer's answer typed twice, not a message: it is not passed on."""
        case = db.load_case(self.db, active) if active is not None else None
        if case is None or not case.is_with(self.expert.id) or case.first_answer_at is not None:
            return False
        self.say("expert_digit_held", case=case.id)
        return True

    def relay_text(self, text: str, active: int | None) -> None:
        self.pass_on(active, {"text": text}, "from_expert", text=text)

    def send_template(self, case_id: int, rest: str) -> None:
        """'sjabloon aangifte' sends a vetted text (flows/templates.yaml) to the person of the
        current case, in their language ('sjabloon 12 aangifte': of case 12); without a name,
        or with one not known, the list."""
        templates = self.router.flows.templates.templates
        if not templates:
            self.say("expert_templates_none")
            return
        listing = "\n".join(f"• {name}: {template.title.get(self.language)}"
                            for name, template in templates.items())
        # Exactly a name or a title, never the start of one: a wrong text must not go out.
        wanted = normalize(rest)
        name = next((key for key, t in templates.items()
                     if wanted in {normalize(key), normalize(t.title.nl), normalize(t.title.en)}),
                    None)
        if name is None:
            self.say("expert_template_unknown" if rest else "expert_templates",
                     templates=listing)
            return
        target = case_id if case_id else db.active_case(self.db, self.expert.id)
        case = self.active_case(target)
        if case is None:
            return
        template = templates[name]
        text = template.text.get(case.language).format_map(
            {**self.texts.facts, "name": self.expert.first_name})
        self.keep(case, {"text": text, "template": name})
        self.router.tell_person(self.turn, case, self.texts.t(
            "from_expert", case.language, name=self.expert.first_name, text=text))
        self.say("expert_template_sent", case=case.id,
                 title=template.title.get(self.language))

    def edited(self, text: str) -> None:
        """An earlier message changed: the new version goes to the person, marked as such.
        A command is not run again from an edit."""
        if self.desk.parse(text) is not None:
            self.say("expert_edited_command")
            return
        self.pass_on(db.active_case(self.db, self.expert.id), {"text": text},
                     "from_expert_edited", text=text)

    def relay_location(self, place: Location) -> None:
        self.pass_on(db.active_case(self.db, self.expert.id), {"location": place.as_body()},
                     "from_expert_location", **place.text_fields())

    def relay_contact(self, card: SharedContact) -> None:
        self.pass_on(db.active_case(self.db, self.expert.id), {"contact": card.as_body()},
                     "from_expert_contact", **card.text_fields())

    def pass_on(self, active: int | None, body: dict[str, object], key: str,
                **fields: str) -> None:
        """Keep what the expert sent with their active case and tell the person (``key``:
        the text, filled with ``fields``)."""
        case = self.active_case(active)
        if case is None:
            return
        self.keep(case, body)
        self.router.tell_person(self.turn, case, self.texts.t(
            key, case.language, name=self.expert.first_name, **fields))

    def relay_file(self, attachment: Attachment) -> None:
        if attachment.kind not in EVIDENCE_KINDS:
            self.say("expert_unsupported")
            return
        case = self.active_case(db.active_case(self.db, self.expert.id))
        if case is None:
            return
        self.keep(case, {"attachment": attachment_body(attachment)})
        self.router.tell_person(self.turn, case, self.texts.t(
            "expert_sent_file", case.language, name=self.expert.first_name),
            attachment=carried(attachment, self.expert.channel, case.channel))
