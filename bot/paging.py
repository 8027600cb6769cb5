"""Paging for urgent cases: when nobody accepted an urgent case (danger signalled) in its
time, each expert who was asked and stayed silent, and who has a pager number in the roster,
gets one text message outside the chat apps, with the case number only. The experts asked
first are paged at the first escalation, the coordinators once they were asked and stayed
silent too. Accepting in the chat is the acknowledgement: an accepted case moves on no more.
The page is a message in the outbox like any other, so it is sent once the escalation is
committed, retried when the provider fails, and counted in ``/metrics``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.write_buffer import TurnContext
from storage import cases as db
from storage.case_status import OfferStatus
from storage.case_types import CaseInfo

if TYPE_CHECKING:
    from bot.routing import Router

log = logging.getLogger(__name__)


def page_silent_experts(router: Router, turn: TurnContext, case: CaseInfo) -> int:
    """Page the silent experts of an urgent case not yet paged for it; returns how many."""
    if not router.settings.paging or not case.urgent:
        return 0
    paged = db.paged_experts(turn.db, case.id)
    count = 0
    for handoff in db.handoffs_of_case(turn.db, case.id):
        expert = router.roster.by_id(handoff.expert)
        if handoff.status != OfferStatus.ASKED or expert is None or expert.pager is None \
                or expert.id in paged:
            continue
        turn.writes.post(turn.result, channel=db.PAGER_CHANNEL, address=expert.id,
                         text=router.texts.t("page", expert.language, case=case.id),
                         language=expert.language, person_id=case.person_id, case_id=case.id)
        turn.audit("bot", "paged", case.id, expert.id)
        log.info("case.paged case=%s expert=%s", case.id, expert.id)
        paged.add(expert.id)
        count += 1
    return count
