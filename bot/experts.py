"""What an expert on the roster can do by message: take or decline a case offered to them,
talk with the person through the bot, and close, transfer or annotate their cases.

Access rules: an expert acts only on cases offered or given to them; a coordinator may also
take, close, transfer or annotate any open case. Button payloads and case numbers are checked
against those rules, so a forged or stale one does nothing but get a polite refusal (and an
audit entry).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from pydantic import ValidationError

from bot.case_marks import (
    UNDO_WORDS,
    level_label,
    level_names,
    pick_level,
    set_urgency,
    set_verified,
)
from bot.case_moves import next_status
from bot.checkins import CheckinDesk, due_time
from bot.conversation import ACTIVE
from bot.events import EVIDENCE_KINDS, Attachment, InboundEvent, Location, SharedContact
from bot.expert_commands import EXPERT_COMMANDS, check_commands, help_lines
from bot.routing import ADDITION_LIMIT, HANDOFF_PREFIX, RELAY_LIMIT, Router
from bot.write_buffer import TurnContext, attachment_body, carried
from config.experts import Expert
from config.settings import CheckinStep
from config.timezone import TIMEZONE
from flows.schema import Text
from flows.text import normalize
from flows.triage import RANK
from storage import cases as db
from storage import checkins as checkin_db
from storage import repository as repo
from storage.case_status import CaseStatus, OfferStatus
from storage.retention import record_accept

log = logging.getLogger(__name__)

_CASE_NUMBER = re.compile(r"^#?(\d{1,12})$")


@dataclass(frozen=True)
class _Command:
    name: str
    case_id: int | None
    rest: str


class ExpertDesk:
    def __init__(self, router: Router, checkins: CheckinDesk | None = None) -> None:
        self.router = router
        self.checkins = checkins
        self.texts = router.texts
        check_commands(router.flows.routing)
        self.words = {normalize(w): name for name, words in router.flows.routing.commands.items()
                      for w in words}

    def turn(self, turn: TurnContext, expert: Expert, event: InboundEvent) -> None:
        desk = ExpertMessage(self, turn, expert)
        if event.option is not None:
            desk.payload(event.option)
        elif event.attachment is not None:
            desk.relay_file(event.attachment)
        elif event.location is not None:
            desk.relay_location(event.location)
        elif event.contact is not None:
            desk.relay_contact(event.contact)
        elif event.edited and event.text and event.text.strip():
            desk.edited(event.text.strip())
        elif event.text and event.text.strip():
            desk.typed(event.text.strip())
        else:
            desk.help()

    def parse(self, text: str) -> _Command | None:
        first, _, rest = text.partition(" ")
        name = self.words.get(normalize(first.lstrip("/").split("@")[0]))
        if name is None:
            return None
        number, _, remainder = rest.strip().partition(" ")
        match = _CASE_NUMBER.match(number)
        if match is None:
            return _Command(name, None, rest.strip())
        return _Command(name, int(match.group(1)), remainder.strip())


class ExpertMessage:
    """One expert message: what it asks, checked against what this expert may do."""

    def __init__(self, desk: ExpertDesk, turn: TurnContext, expert: Expert) -> None:
        self.desk, self.router, self.texts = desk, desk.router, desk.texts
        self.turn, self.expert = turn, expert
        self.db = turn.db
        self.language = expert.language

    def say(self, key: str, **fields: object) -> None:
        self.router.tell_expert(self.turn, None, self.expert,
                                self.texts.t(key, self.language, **fields))

    def audit(self, action: str, case_id: int | None, detail: str | None = None) -> None:
        self.turn.audit(f"expert:{self.expert.id}", action, case_id, detail)

    def lists(self) -> dict[str, str]:
        routing = self.router.flows.routing
        return {"outcomes": ", ".join(routing.outcomes),
                "specialties": ", ".join(routing.specialties),
                "levels": level_names(self.router.flows.triage, self.language)}

    # -- input ---------------------------------------------------------------------------

    def typed(self, text: str) -> None:
        active = db.active_case(self.db, self.expert.id)
        if text in ("1", "2") and active is None \
                and (offers := db.pending_handoffs_of(self.db, self.expert.id)):
            # Channels without buttons show the offer's options numbered: 1 takes it, 2
            # declines it (only when no case is open, where a digit is an answer).
            action = "accept" if text == "1" else "decline"
            self.payload(f"{HANDOFF_PREFIX}{offers[-1].id}:{action}")
            return
        command = self.desk.parse(text)
        if command is None:
            if text in ("1", "2") and self.repeated_press(active):
                return
            self.relay_text(text, active)
            return
        entry = EXPERT_COMMANDS[command.name]
        if entry.needs_case and command.case_id is None:
            self.help()
            return
        entry.run(self, command.case_id or 0, command.rest)

    def help(self) -> None:
        """The commands, built from bot/expert_commands.py and their lines in routing.yaml."""
        fields = self.lists()
        first, *lines, last = (self.texts.t(key, self.language, **fields) for key in help_lines())
        self.router.tell_expert(self.turn, None, self.expert,
                                "\n".join([first, *(f"• {line}" for line in lines), last]))

    def read_audit(self, case_id: int) -> None:
        """A coordinator reads who did what with a case; the read is audited too."""
        if not self.expert.coordinator:
            self.audit("denied", case_id, "audit")
            self.say("expert_audit_coordinators_only")
            return
        entries = db.audit_entries(self.db, case_id)
        self.audit("audit_read", case_id)
        if not entries:
            self.say("expert_audit_empty", case=case_id)
            return
        lines = [f"{at:%Y-%m-%d %H:%M} {actor} {action}{' ' + detail if detail else ''}"
                 for at, actor, action, detail in entries]
        self.say("expert_audit", case=case_id, entries="\n".join(lines))

    def payload(self, payload: str) -> None:
        where, _, action = payload.removeprefix(HANDOFF_PREFIX).partition(":")
        handoff = db.handoff(self.db, int(where)) if (
            payload.startswith(HANDOFF_PREFIX) and where.isdigit()) else None
        if handoff is None or handoff.expert != self.expert.id or \
                action not in ("accept", "decline"):
            self.audit("denied", handoff.case_id if handoff else None, "payload")
            log.warning("expert.forged_payload expert=%s", self.expert.id)
            self.say("expert_not_yours", case=handoff.case_id if handoff else "?")
            return
        if action == "accept":
            self.accept(handoff.case_id, handoff)
        else:
            self.decline(handoff.case_id, handoff)

    # -- taking a case -------------------------------------------------------------------------

    def _my_handoff(self, case_id: int) -> db.HandoffRow | None:
        mine = [h for h in db.handoffs_of_case(self.db, case_id) if h.expert == self.expert.id]
        return mine[-1] if mine else None

    def accept(self, case_id: int, handoff: db.HandoffRow | None) -> None:
        """Take a case: valid only for an open offer to this expert (a button pressed after
        declining, or after the case was transferred away, is not), or for a coordinator
        taking any case that is still waiting."""
        case = db.load_case(self.db, case_id)
        handoff = handoff or self._my_handoff(case_id)
        coordinator_may = self.expert.coordinator and case is not None \
            and case.status == CaseStatus.ASKING
        if case is None or (handoff is None and not coordinator_may):
            self.refuse(case_id)
            return
        if case.is_with(self.expert.id):
            db.save_session(self.db, self.expert.id, active_case_id=case.id)
            self.say("expert_switched", case=case.id)
            return
        if case.status != CaseStatus.ASKING:
            key = "expert_taken" if case.status == CaseStatus.ASSIGNED \
                else "expert_already_answered"
            self.say(key, case=case.id)
            return
        if handoff is not None and handoff.status != OfferStatus.ASKED and not coordinator_may:
            self.audit("denied", case.id, "stale_offer")
            log.info("expert.stale_accept expert=%s case=%s", self.expert.id, case.id)
            self.say("expert_already_answered", case=case.id)
            return
        if handoff is not None and handoff.status != OfferStatus.ASKED:
            handoff = None  # a coordinator taking it anew, not through the old offer
        if handoff is None:
            handoff_id = db.insert_handoff(self.db, case.id, self.expert.id, 0, self.turn.now)
        else:
            handoff_id = handoff.id
        self.assign(case, handoff_id)

    def assign(self, case: db.CaseInfo, handoff_id: int) -> None:
        now, router = self.turn.now, self.router
        db.update_case(self.db, case.id, now, status=next_status(case.status, "accept"),
                       assigned_expert=self.expert.id, accepted_at=case.accepted_at or now,
                       escalate_at=None)
        db.set_handoff_status(self.db, [handoff_id], OfferStatus.ACCEPTED, now)
        others = [h for h in db.handoffs_of_case(self.db, case.id)
                  if h.status == OfferStatus.ASKED and h.id != handoff_id]
        db.set_handoff_status(self.db, [h.id for h in others], OfferStatus.TAKEN, now)
        for other in {h.expert for h in others} - {self.expert.id}:
            colleague = router.roster.by_id(other)
            if colleague is not None:
                router.tell_expert(self.turn, case, colleague,
                                   self.texts.t("expert_taken", colleague.language, case=case.id))
        db.save_session(self.db, self.expert.id, active_case_id=case.id)
        self.turn.writes.expert_counts = None
        self.audit("accept", case.id)
        if case.first_asked_at is not None and case.accepted_at is None:
            waited = (now - case.first_asked_at).total_seconds()
            router.metrics.time_to_accept.observe(max(0.0, waited))
            record_accept(self.db, asked_at=case.first_asked_at, accepted_at=now,
                          urgent=case.urgent, escalated=case.escalation_level > 1)
        log.info("case.accepted case=%s expert=%s", case.id, self.expert.id)
        self.send_case_file(case)
        self.tell_person_accepted(case)

    def send_case_file(self, case: db.CaseInfo) -> None:
        """The intake and what was written since, each long text shortened (the latest
        additions first to stay); 'volledig 12' shows all of it."""
        router = self.router
        text = self.texts.t("expert_accepted", self.language, case=case.id,
                            intake=router.full_intake(self.db, case, self.language))
        additions, files = router.evidence(self.db, case, self.language)
        lines, size = [], 0
        for by_expert, line in reversed(additions):
            shown, _ = self.texts.cap(line, self.language, case.id, limit=ADDITION_LIMIT)
            size += len(shown)
            if size > RELAY_LIMIT:
                lines.append(self.texts.t("expert_text_cut", self.language, case=case.id,
                                          count=sum(len(t) for _, t in additions)))
                break
            lines.append(f"{self.who_wrote(by_expert)}: {shown}")
        if lines:
            text += "\n\n" + "\n".join(reversed(lines))
        router.tell_expert(self.turn, case, self.expert, text)
        for attachment in files:
            self.forward_to_expert(case, attachment)

    def who_wrote(self, by_expert: bool) -> str:
        return self.texts.t("expert_colleague_wrote" if by_expert else "expert_addition",
                            self.language)

    def read_full(self, case_id: int) -> None:
        """Everything of a case, nothing shortened (the expert asked for it); audited."""
        case = self.my_case(case_id, coordinator_may=True)
        if case is None:
            return
        additions, _ = self.router.evidence(self.db, case, self.language)
        texts = "\n\n".join(f"{self.who_wrote(by_expert)}: {line}"
                             for by_expert, line in additions)
        self.audit("open", case.id, "full")
        text = self.texts.t(
            "expert_full", self.language, case=case.id,
            intake=self.router.full_intake(self.db, case, self.language, limit=None),
            texts=texts or self.texts.t("expert_full_nothing_more", self.language))
        # With the case's person, so an erasure takes it along if it is still waiting.
        self.router.tell_expert(self.turn, case, self.expert, text)

    def forward_to_expert(self, case: db.CaseInfo, attachment: Attachment) -> None:
        text = self.texts.t("expert_person_file", self.language, case=case.id,
                            kind=attachment.kind)
        self.router.tell_expert(self.turn, case, self.expert, text,
                                attachment=carried(attachment, case.channel,
                                                   self.expert.channel))

    def tell_person_accepted(self, case: db.CaseInfo) -> None:
        language, router = case.language, self.router
        _, answers, _ = router.answers(self.db, case)
        how = str((answers.get("contact") or {}).get("option") or "chat")
        if how not in ("chat", "phone", "email"):
            how = "chat"
        fields = {"name": self.expert.first_name, "role": self.role(language)}
        parts = [self.texts.t("accepted", language, **fields),
                 self.texts.t(f"how_{how}", language, **fields)]
        found = (db.conversation_answers(self.db, case.conversation_id)
                 if case.conversation_id is not None else None)
        if found is not None and found.status == ACTIVE:
            parts.append(self.texts.t("intake_stopped", language))
        router.tell_person(self.turn, case, "\n".join(parts))

    def role(self, language: str) -> str:
        if self.expert.role is not None:
            return self.expert.role.get(language)
        return self.texts.t("default_role", language)

    def refuse(self, case_id: int) -> None:
        self.audit("denied", case_id if case_id else None)
        log.warning("expert.denied expert=%s case=%s", self.expert.id, case_id)
        self.say("expert_not_yours", case=case_id)

    def decline(self, case_id: int, handoff: db.HandoffRow | None) -> None:
        handoff = handoff or self._my_handoff(case_id)
        case = db.load_case(self.db, case_id)
        if case is None or handoff is None:
            self.refuse(case_id)
            return
        if handoff.status != OfferStatus.ASKED or case.status != CaseStatus.ASKING:
            self.say("expert_already_answered", case=case.id)
            return
        db.set_handoff_status(self.db, [handoff.id], OfferStatus.DECLINED, self.turn.now)
        self.audit("decline", case.id)
        log.info("case.declined case=%s expert=%s", case.id, self.expert.id)
        self.say("expert_declined", case=case.id)
        if not any(h.status == OfferStatus.ASKED for h in db.handoffs_of_case(self.db, case.id)):
            self.router.escalate(self.turn, case)

    # -- working on a case ----------------------------------------------------------------

    def my_case(self, case_id: int, *, coordinator_may: bool) -> db.CaseInfo | None:
        """The case if this expert may act on it: given to them, or (for a coordinator where
        allowed) any open case. Refuses politely otherwise."""
        case = db.load_case(self.db, case_id)
        if case is not None and case.is_with(self.expert.id):
            return case
        if case is not None and coordinator_may and self.expert.coordinator and case.is_open():
            return case
        if case is not None and case.assigned_expert == self.expert.id:
            self.say("expert_not_open", case=case_id)
            return None
        self.refuse(case_id)
        return None

    def close(self, case_id: int, rest: str) -> None:
        case = self.my_case(case_id, coordinator_may=True)
        if case is None:
            return
        outcome = self.pick(rest, self.router.flows.routing.outcomes)
        if outcome is None:
            self.say("expert_close_usage", case=case.id, **self.lists())
            return
        now = self.turn.now
        db.update_case(self.db, case.id, now, status=next_status(case.status, "close"),
                       closed_at=now, outcome=outcome, escalate_at=None)
        pending = [h.id for h in db.handoffs_of_case(self.db, case.id)
                   if h.status == OfferStatus.ASKED]
        db.set_handoff_status(self.db, pending, OfferStatus.WITHDRAWN, now)
        if case.conversation_id is not None:
            db.close_conversation(self.db, case.conversation_id)
        self.clear_session(case.id)
        self.audit("close", case.id, outcome)
        log.info("case.closed case=%s outcome=%s", case.id, outcome)
        self.say("expert_closed", case=case.id,
                 outcome=self.texts.outcome(outcome, self.language))
        self.router.tell_person(self.turn, case, self.texts.t(
            "closed", case.language, name=self.expert.first_name))

    def transfer(self, case_id: int, rest: str) -> None:
        case = self.my_case(case_id, coordinator_may=True)
        if case is None:
            return
        specialty = self.pick(rest, self.router.flows.routing.specialties)
        if specialty is None:
            self.say("expert_transfer_usage", case=case.id, **self.lists())
            return
        now = self.turn.now
        mine = [h.id for h in db.handoffs_of_case(self.db, case.id)
                if h.status == OfferStatus.ACCEPTED and h.expert == case.assigned_expert]
        db.set_handoff_status(self.db, mine, OfferStatus.TRANSFERRED, now)
        db.update_case(self.db, case.id, now, status=next_status(case.status, "transfer"),
                       assigned_expert=None, specialties=[specialty], escalation_level=0)
        self.clear_session(case.id)
        self.audit("transfer", case.id, specialty)
        log.info("case.transferred case=%s specialty=%s", case.id, specialty)
        self.say("expert_transferred", case=case.id,
                 specialty=self.texts.specialty(specialty, self.language))
        self.router.tell_person(self.turn, case, self.texts.t(
            "transferred", case.language, name=self.expert.first_name,
            specialty=self.texts.specialty(specialty, case.language)))
        moved = db.load_case(self.db, case.id)
        assert moved is not None
        self.router.ask_next(self.turn, moved)

    def note(self, case_id: int, rest: str) -> None:
        case = self.my_case(case_id, coordinator_may=True)
        if case is None:
            return
        if not rest:
            self.say("expert_note_usage", case=case.id)
            return
        db.add_note(self.db, case.id, self.expert.id, rest, self.turn.now)
        self.audit("note", case.id)
        self.say("expert_noted", case=case.id)

    def aftercare(self, case_id: int, rest: str) -> None:
        """Plan the case's check-ins ('nazorg 12'), add one ('nazorg 12 3d') or cancel them
        ('nazorg 12 stop')."""
        desk = self.desk.checkins
        case = self.my_case(case_id, coordinator_may=True)
        if case is None:
            return
        if desk is None:
            self.say("expert_aftercare_none", case=case.id)
            return
        word = normalize(rest)
        if word in ("stop", "annuleer", "cancel"):
            desk.cancel(self.db, case_id=case.id)
            self.audit("aftercare", case.id, "cancel")
            self.say("expert_aftercare_cancelled", case=case.id)
            return
        if word:
            try:
                step = CheckinStep(after=word.replace(" ", ""))
            except ValidationError:
                self.say("expert_aftercare_usage", case=case.id)
                return
            desk.add(self.turn, case_id=case.id, person_id=case.person_id,
                     lasting=False, due=due_time(step, self.turn.now, None))
        elif not checkin_db.planned_for_case(self.db, case.id):
            _, answers, _ = self.router.answers(self.db, case)
            desk.plan(self.turn, case_id=case.id, person_id=case.person_id,
                      kind=case.kind, answers=answers)
        self.audit("aftercare", case.id, word or "plan")
        planned = checkin_db.planned_for_case(self.db, case.id)
        if not planned:
            self.say("expert_aftercare_none", case=case.id)
            return
        dates = ", ".join(f"{due.astimezone(TIMEZONE):%d-%m-%Y %H:%M}" for _, due in planned)
        self.say("expert_aftercare_planned", case=case.id, dates=dates)

    def urgency(self, case_id: int, rest: str) -> None:
        """Choose a case's urgency level ('urgentie 12 hoog'); it holds until a new danger or
        crisis signal. A case that became more urgent while waiting moves on sooner."""
        case = self.my_case(case_id, coordinator_may=True)
        if case is None:
            return
        triage = self.router.flows.triage
        level = pick_level(triage, rest)
        if level is None:
            self.say("expert_urgency_usage", case=case.id, **self.lists())
            return
        sooner = set_urgency(self.db, case, level, self.expert.id, self.turn.now)
        if sooner and case.status == CaseStatus.ASKING:
            self.router.hasten(self.turn, replace(case, urgency=level))
        self.audit("urgency", case.id, level)
        log.info("case.urgency case=%s level=%s", case.id, level)
        self.say("expert_urgency_set", case=case.id,
                 level=level_label(triage, level, self.language))

    def verify(self, case_id: int, rest: str) -> None:
        """Mark that the team checked, through its own channel, that the report is from a
        real office holder ('verifieer 12 gebeld via de griffie'), or undo it."""
        case = self.my_case(case_id, coordinator_may=True)
        if case is None:
            return
        how = rest.strip()
        if not how:
            self.say("expert_verify_usage", case=case.id)
            return
        if normalize(how) in UNDO_WORDS:
            set_verified(self.db, case.id, self.turn.now, None, None)
            self.audit("unverify", case.id)
            self.say("expert_unverified", case=case.id)
            return
        set_verified(self.db, case.id, self.turn.now, self.expert.id, how[:500])
        self.audit("verify", case.id)
        log.info("case.verified case=%s", case.id)
        self.say("expert_verified", case=case.id, how=how[:500])

    def switch(self, case_id: int) -> None:
        case = db.load_case(self.db, case_id)
        if case is None or case.assigned_expert != self.expert.id:
            self.refuse(case_id)
        elif case.status != CaseStatus.ASSIGNED:
            self.say("expert_not_open", case=case_id)
        else:
            db.save_session(self.db, self.expert.id, active_case_id=case.id)
            self.audit("open", case.id)
            self.say("expert_switched", case=case.id)

    def list_cases(self) -> None:
        lines = []
        triage = self.router.flows.triage
        mine = sorted(db.assigned_cases(self.db, self.expert.id),
                      key=lambda c: (RANK.get(c.urgency, len(RANK)), c.id))
        for case in mine:
            level = level_label(triage, case.urgency, self.language)
            lines.append(f"• #{case.id} {case.kind} ({level})")
        offered = self.texts.t("expert_accept_label", self.language).lower()
        for handoff in db.pending_handoffs_of(self.db, self.expert.id):
            lines.append(f"• #{handoff.case_id} ({offered}?)")
        self.audit("list", None)
        if lines:
            self.say("expert_cases", cases="\n".join(lines))
        else:
            self.say("expert_no_cases")

    def clear_session(self, case_id: int) -> None:
        if db.active_case(self.db, self.expert.id) == case_id:
            db.save_session(self.db, self.expert.id, active_case_id=None)

    @staticmethod
    def pick(text: str, names: Mapping[str, Text]) -> str | None:
        """A name from ``names``, typed as its key (or the start of it) or its label."""
        wanted = normalize(text)
        if not wanted:
            return None
        for key, label in names.items():
            if wanted in {normalize(key), normalize(label.nl), normalize(label.en)} \
                    or normalize(key).startswith(wanted):
                return key
        return None

    # -- relay ---------------------------------------------------------------------------------

    def active_case(self, active: int | None) -> db.CaseInfo | None:
        case = db.load_case(self.db, active) if active is not None else None
        if case is None or not case.is_with(self.expert.id):
            self.say("expert_no_active_case")
            return None
        return case

    def keep(self, case: db.CaseInfo, body: dict[str, object]) -> None:
        row = repo.message_row(channel=self.expert.channel, address=self.expert.channel_id,
                               direction=repo.INBOUND, kind=db.EXPERT_MESSAGE, body=body,
                               person_id=case.person_id, conversation_id=None, now=self.turn.now)
        row["case_id"] = case.id
        self.turn.writes.keep(row)
        if case.first_answer_at is None:
            db.update_case(self.db, case.id, self.turn.now, first_answer_at=self.turn.now)
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
