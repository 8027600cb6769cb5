"""Taking a case: an expert accepts or declines an offer (a coordinator may take any waiting
case), gets the case file, and the person is told who helps them."""

from __future__ import annotations

import logging

from bot.case_moves import next_status
from bot.conversation import ACTIVE
from bot.events import Attachment
from bot.expert_base import ExpertBase
from bot.first_contact import contact_due_after_accept
from bot.routing import ADDITION_LIMIT, RELAY_LIMIT
from bot.write_buffer import carried
from storage import cases as db
from storage.case_status import CaseStatus, OfferStatus
from storage.case_types import CaseInfo
from storage.retention import record_accept

log = logging.getLogger(__name__)


class TakingCases(ExpertBase):
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

    def assign(self, case: CaseInfo, handoff_id: int) -> None:
        now, router = self.turn.now, self.router
        db.update_case(self.db, case.id, now, status=next_status(case.status, "accept"),
                       assigned_expert=self.expert.id, accepted_at=case.accepted_at or now,
                       escalate_at=None, **contact_due_after_accept(router, now))
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

    def send_case_file(self, case: CaseInfo) -> None:
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

    def read_full(self, case_id: int) -> None:
        """Everything of a case, nothing shortened (the expert asked for it); audited."""
        case = self.my_case(case_id, coordinator_may=True, consultant_may=True)
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

    def forward_to_expert(self, case: CaseInfo, attachment: Attachment) -> None:
        text = self.texts.t("expert_person_file", self.language, case=case.id,
                            kind=attachment.kind)
        self.router.tell_expert(self.turn, case, self.expert, text,
                                attachment=carried(attachment, case.channel,
                                                   self.expert.channel))

    def tell_person_accepted(self, case: CaseInfo) -> None:
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
