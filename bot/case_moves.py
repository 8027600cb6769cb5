"""The legal moves of a case between its statuses, written once as a ``transitions`` machine,
which refuses any other move by itself. Every change of a case's status asks
:func:`next_status` first, so a stale button or a race can never put a case where it cannot
be (a closed case taken, an abandoned intake handed off)."""

from __future__ import annotations

from transitions import Machine

from storage.case_status import OPEN_STATUSES, CaseStatus

INTAKE, SUBMITTED, ASKING = CaseStatus.INTAKE, CaseStatus.SUBMITTED, CaseStatus.ASKING
ASSIGNED, CLOSED, ABANDONED = CaseStatus.ASSIGNED, CaseStatus.CLOSED, CaseStatus.ABANDONED

MOVES: tuple[tuple[str, tuple[CaseStatus, ...], CaseStatus], ...] = (
    ("submit", (INTAKE,), SUBMITTED),
    ("hand_off", (INTAKE, SUBMITTED), ASKING),
    ("accept", (ASKING,), ASSIGNED),
    ("transfer", OPEN_STATUSES, ASKING),
    ("release", (ASSIGNED,), ASKING),
    ("close", OPEN_STATUSES, CLOSED),
    ("reopen", (CLOSED, SUBMITTED), SUBMITTED),
    ("abandon", (INTAKE,), ABANDONED),
)
"""(move, from, to). submit: the person confirmed the intake; hand_off: experts are asked;
accept: one took it; transfer: to another specialty; release: its expert left the roster;
close: with an outcome; reopen: a check-in asked for contact again; abandon: the intake was
left for a new one."""

_MACHINE = Machine(model=None, states=[status.value for status in CaseStatus],
                   transitions=[{"trigger": move, "source": [s.value for s in sources],
                                 "dest": dest.value} for move, sources, dest in MOVES],
                   initial=INTAKE.value, auto_transitions=False)


class IllegalMove(Exception):
    """A case cannot make this move from where it is."""


def next_status(current: str, move: str) -> CaseStatus:
    """Where ``move`` takes a case that is ``current``; :class:`IllegalMove` if it may not."""
    found = _MACHINE.get_transitions(trigger=move, source=str(current))
    if not found:
        raise IllegalMove(f"a case that is {current!r} cannot {move}")
    return CaseStatus(str(found[0].dest))


def may(current: str, move: str) -> bool:
    return bool(_MACHINE.get_transitions(trigger=move, source=str(current)))
