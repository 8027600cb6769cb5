"""Walking every path of a flow through the pure conversation logic."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.conversation import COMPLETED, Outcome, Snapshot
from bot.events import InboundEvent
from flows.schema import FLOW_PREFIX
from tests.harness import FLOWS, make_logic
from tests.intake_script import TYPED_FOR

LOGIC = make_logic()
LEFTOVER_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")



def _event(**kwargs: str) -> InboundEvent:
    return InboundEvent("test", "walker", "id", **kwargs)  # type: ignore[arg-type]


def _inputs(snapshot: Snapshot) -> Iterator[tuple[str, InboundEvent]]:
    """Every distinct way forward from this step: each option, and typed text where allowed."""
    step = FLOWS.step(snapshot.flow, snapshot.state)
    where = f"{snapshot.flow}.{snapshot.state}"
    if step.type == "correct":
        yield "keep", _event(option=f"{where}:keep")
        return
    if step.multi:
        yield "multi", _event(text="1 2")
    for option in step.option_list:
        yield option.id, _event(option=f"{where}:{option.id}")
    if step.type == "text":
        yield "typed", _event(text=TYPED_FOR[step.validate_as])


def _apply(snapshot: Snapshot, outcome: Outcome) -> Snapshot:
    return Snapshot(known=True, flow=outcome.flow, state=outcome.state, status=outcome.status,
                    language=outcome.language, data=outcome.data)


def _turn(snapshot: Snapshot, event: InboundEvent) -> Outcome:
    outcome = LOGIC.turn(snapshot, event)
    for reply in outcome.replies:
        assert reply.text.strip()
        assert not LEFTOVER_PLACEHOLDER.search(reply.text), reply.text
    assert outcome.replies, f"{snapshot.flow}.{snapshot.state}: no reply"
    return outcome


def enter(flow: str, language: str) -> Snapshot:
    """The snapshot right after a person chose ``flow`` in the menu."""
    menu = LOGIC.start(language)
    menu.known = True
    if flow == "menu":
        return menu
    options = [o for o in FLOWS.step("menu", "menu").option_list
               if o.next == FLOW_PREFIX + flow]
    if not options:  # a flow the bot starts itself (a check-in)
        return _apply(menu, LOGIC.begin(flow, language, {}))
    return _apply(menu, _turn(menu, _event(option=f"menu.menu:{options[0].id}")))


def walk(flow: str, language: str,
         visit: list[Snapshot] | None = None) -> tuple[int, set[str], set[tuple[str, str]]]:
    """Every path of ``flow``: each input is tried at each step; one input per distinct
    destination is followed further. Returns (paths, states seen, edges taken)."""
    start = enter(flow, language)
    seen = {start.state}
    edges: set[tuple[str, str]] = set()
    paths = 0
    todo: list[tuple[Snapshot, frozenset[str]]] = [(start, frozenset({start.state}))]
    while todo:
        snapshot, branch = todo.pop()
        if visit is not None:
            visit.append(snapshot)
        assert len(branch) < 60, f"{flow}: a path does not end"
        followed: set[tuple[str, str, str]] = set()
        for name, event in _inputs(snapshot):
            outcome = _turn(snapshot, event)
            step = FLOWS.step(snapshot.flow, snapshot.state)
            if step.multi and event.option is not None:
                assert outcome.state == snapshot.state, "a pressed option waits for 'Klaar'"
                done = InboundEvent("test", "walker", "id",
                                    option=f"{flow}.{snapshot.state}:done")
                outcome = _turn(_apply(snapshot, outcome), done)
            edges.add((snapshot.state, name))
            key = (outcome.flow, outcome.state, outcome.status)
            if key in followed:
                continue
            followed.add(key)
            if outcome.flow != flow:
                paths += 1
                continue
            if outcome.status == COMPLETED:
                paths += 1
                if outcome.state not in seen:  # try the end step's own options once
                    todo.append((_apply(snapshot, outcome), branch | {outcome.state}))
                seen.add(outcome.state)
                continue
            assert outcome.state != snapshot.state or len(outcome.replies) > 1, \
                f"{flow}.{snapshot.state}: {name} is stuck"
            seen.add(outcome.state)
            if outcome.state in branch:  # a loop back (tips topics, summary): path ends here
                paths += 1
                continue
            todo.append((_apply(snapshot, outcome), branch | {outcome.state}))
    return paths, seen, edges


