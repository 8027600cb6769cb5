"""Working on a case with the rest of the team: a colleague reads along (``overleg``), and an
abusive or perpetrator account is blocked (``blokkeer``) or, by a coordinator, let through
again (``deblokkeer``)."""

from __future__ import annotations

import logging

from bot.expert_base import ExpertBase
from config.experts import Expert
from flows.text import normalize
from storage import case_access as access
from storage import cases as db
from storage.case_status import CaseStatus
from storage.case_types import CaseInfo

log = logging.getLogger(__name__)

STOP_WORDS = frozenset({"stop", "klaar", "einde", "end", "done"})


class TeamWork(ExpertBase):
    def consult(self, case_id: int, rest: str) -> None:
        """'overleg 12 bert': Bert may read the file of case 12 and add notes, without taking
        it; 'overleg 12 bert stop' ends that; 'overleg 12' says who reads along."""
        case = self.my_case(case_id, coordinator_may=True)
        if case is None:
            return
        words = rest.split()
        if not words:
            names = [self.router.first_name(e) for e in access.consultants(self.db, case.id)]
            if names:
                self.say("expert_consult_list", case=case.id, names=", ".join(names))
            else:
                self.say("expert_consult_nobody", case=case.id)
            return
        colleague = self._colleague(words[0])
        if colleague is None:
            self.say("expert_consult_unknown", case=case.id, name=words[0][:40])
            return
        if len(words) > 1 and normalize(words[1]) in STOP_WORDS:
            self._end_consult(case, colleague)
            return
        if colleague.id == case.assigned_expert or colleague.id == self.expert.id:
            self.say("expert_consult_has_it", case=case.id, name=colleague.first_name)
            return
        if colleague.id in access.consultants(self.db, case.id):
            self.say("expert_consult_already", case=case.id, name=colleague.first_name)
            return
        access.add_consultant(self.db, case.id, colleague.id, self.expert.id, self.turn.now)
        self.audit("consult", case.id, colleague.id)
        log.info("case.consult case=%s expert=%s", case.id, colleague.id)
        self.say("expert_consult_added", case=case.id, name=colleague.first_name)
        self.router.tell_expert(self.turn, case, colleague, self.texts.t(
            "expert_consult_invite", colleague.language, case=case.id,
            name=self.expert.first_name, kind=case.kind))
        self._tell_holder(case, "expert_consult_by_coordinator", colleague=colleague)

    def _end_consult(self, case: CaseInfo, colleague: Expert) -> None:
        if not access.end_consultant(self.db, case.id, colleague.id, self.turn.now):
            self.say("expert_consult_not", case=case.id, name=colleague.first_name)
            return
        self.audit("consult_end", case.id, colleague.id)
        self.say("expert_consult_ended", case=case.id, name=colleague.first_name)
        self.router.tell_expert(self.turn, case, colleague, self.texts.t(
            "expert_consult_ended_you", colleague.language, case=case.id))

    def _colleague(self, typed: str) -> Expert | None:
        """An expert on the roster by id ('@bert' or 'bert') or by first name."""
        wanted = normalize(typed.lstrip("@"))
        roster = self.router.roster
        by_id = next((e for e in roster.experts if normalize(e.id) == wanted), None)
        if by_id is not None:
            return by_id
        named = [e for e in roster.experts if normalize(e.first_name) == wanted]
        return named[0] if len(named) == 1 else None

    def _tell_holder(self, case: CaseInfo, key: str, colleague: Expert) -> None:
        """A coordinator acted on a colleague's case: that colleague hears of it."""
        if case.status != CaseStatus.ASSIGNED or case.assigned_expert == self.expert.id:
            return
        holder = self.router.roster.by_id(case.assigned_expert or "")
        if holder is not None and holder.id != colleague.id:
            self.router.tell_expert(self.turn, case, holder, self.texts.t(
                key, holder.language, case=case.id, name=self.expert.first_name,
                colleague=colleague.first_name))

    def block(self, case_id: int) -> None:
        """The account behind case 12 is abusive or a perpetrator's: what it writes is kept as
        evidence and no longer reaches experts; it is answered as before, and its new cases
        are not offered to anyone. The coordinators are told."""
        case = self.my_case(case_id, coordinator_may=True)
        if case is None:
            return
        if not access.set_blocked(self.db, case.person_id, self.turn.now, self.expert.id):
            self.say("expert_already_blocked", case=case.id)
            return
        if self.desk.checkins is not None:
            self.desk.checkins.cancel(self.db, person_id=case.person_id)
        self.audit("block", case.id)
        log.info("person.blocked case=%s", case.id)
        self.say("expert_blocked", case=case.id)
        for coordinator in self.router.roster.experts:
            if coordinator.coordinator and coordinator.id != self.expert.id:
                self.router.tell_expert(self.turn, None, coordinator, self.texts.t(
                    "expert_block_notice", coordinator.language, case=case.id,
                    name=self.expert.first_name))

    def unblock(self, case_id: int) -> None:
        """A coordinator lifts a block; cases held while it lasted are offered now."""
        if not self.expert.coordinator:
            self.audit("denied", case_id or None, "unblock")
            self.say("expert_unblock_coordinators_only")
            return
        case = db.load_case(self.db, case_id)
        if case is None:
            self.refuse(case_id)
            return
        if not access.set_blocked(self.db, case.person_id, None, None):
            self.say("expert_not_blocked", case=case.id)
            return
        self.audit("unblock", case.id)
        log.info("person.unblocked case=%s", case.id)
        held = self.router.release_held(self.turn, case.person_id)
        self.say("expert_unblocked", case=case.id,
                 cases=", ".join(f"#{number}" for number in held) or "-")
