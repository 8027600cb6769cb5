"""Telling experts when a change of the roster (an override added or removed, a shift edited)
changes their own shifts in the next two weeks: what they gained and what they lost. Run in
the first batch after the bot took the changed roster, as its messages go through the outbox."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.routing import Router
from bot.write_buffer import TurnContext
from config.experts import COORDINATOR
from config.rota_text import stretch
from config.shifts import Span, shifts_by_expert

log = logging.getLogger(__name__)

AHEAD = timedelta(days=14)
MOST_LINES = 8


def tell_changed_shifts(router: Router, turn: TurnContext) -> int:
    """Tell each expert whose shifts differ between the roster before and now; returns how
    many were told."""
    before, now = router.roster_before, router.roster
    router.roster_before = None
    if before is None or before.on_call == now.on_call:
        return 0
    told = 0
    end = turn.now + AHEAD
    old_shifts = shifts_by_expert(before, turn.now, end)
    new_shifts = shifts_by_expert(now, turn.now, end)
    for expert in now.experts:
        old, new = set(old_shifts.get(expert.id, [])), set(new_shifts.get(expert.id, []))
        gained, lost = sorted(new - old, key=_order), sorted(old - new, key=_order)
        if not gained and not lost:
            continue
        lines = [router.texts.t("expert_shifts_changed", expert.language)]
        for key, changed in (("expert_shifts_gained", gained), ("expert_shifts_lost", lost)):
            for span in changed[:MOST_LINES]:
                what = (router.texts.t("expert_shift_coordinator", expert.language)
                        if span.specialty == COORDINATOR
                        else router.texts.specialty(span.specialty, expert.language))
                lines.append(router.texts.t(key, expert.language, what=what, when=stretch(
                    span.start, span.end, expert.language)))
        router.tell_expert(turn, None, expert, "\n".join(lines))
        told += 1
    log.info("roster.shift_notices count=%d", told)
    return told


def _order(span: Span) -> tuple[datetime, str]:
    return span.start, span.specialty
