"""One ``transitions`` machine per flow, shared by every conversation.

A conversation's state lives in the database, so no model stays attached to the machine:
a move is looked up in the machine's own transition table. That keeps a turn cheap and
the memory of the bot independent of how many conversations are stored.
"""

from __future__ import annotations

from transitions import Machine

from flows.schema import FLOW_PREFIX, Flow

ANSWER = "answer"
PROCEED = "proceed"


def choose(option_id: str) -> str:
    return f"choose_{option_id}"


def edit(step: str) -> str:
    return f"edit_{step}"


class InvalidMove(Exception):
    """The trigger is not allowed from this state."""


class FlowMachine:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        targets = {
            target
            for step in flow.steps.values()
            for target in [step.next, *(o.next for o in step.option_list)]
            if target and target.startswith(FLOW_PREFIX)
        }
        self.machine = Machine(
            model=None,
            states=[*flow.steps, *sorted(targets)],
            initial=flow.start,
            auto_transitions=False,
        )
        for name, step in flow.steps.items():
            for option in step.option_list:
                dest = option.next or step.next
                assert dest is not None
                self.machine.add_transition(choose(option.id), name, dest)
            if step.next and (step.type == "text" or step.multi):
                self.machine.add_transition(ANSWER, name, step.next)
            if step.type == "info" and step.next:
                self.machine.add_transition(PROCEED, name, step.next)
            if step.type == "end":
                self.machine.add_transition(ANSWER, name, name)
            if step.type == "correct":
                for target, target_step in flow.steps.items():
                    if target_step.summary is not None:
                        self.machine.add_transition(edit(target), name, target)

    def next_state(self, state: str, trigger: str) -> str:
        moves = self.machine.get_transitions(trigger=trigger, source=state)
        if not moves:
            raise InvalidMove(f"{self.flow.flow}: no {trigger!r} from {state!r}")
        dest: str | None = moves[0].dest
        if dest is None:
            raise InvalidMove(f"{self.flow.flow}: {trigger!r} from {state!r} goes nowhere")
        return dest
