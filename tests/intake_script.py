"""The canonical intake script: what a person types to go through a flow, derived from the flow
itself by the real conversation logic. A caller names only the answers it cares about; every
other question gets its first option (or a typed answer), so a new intake question does not
break what walks past it. Light on purpose (no test harness): the benchmarks use it with the
logic they run."""

from __future__ import annotations

from collections.abc import Mapping

from bot.conversation import COMPLETED, ConversationLogic, Snapshot
from bot.events import InboundEvent
from flows.schema import FLOW_PREFIX, Step

CALM_DEFAULTS = {"safety": "nee"}
"""The answer where the first option would change the path (being in danger now)."""
TYPED_FOR = {"phone": "06 12345678", "email": "naam@voorbeeld.nl", "date": "15-03-2027",
             None: "Een antwoord in eigen woorden."}

INCIDENT = {"role": "raadslid", "org_type": "gemeente", "org_name": "Gemeente Ergenshuizen",
            "what": "bedreiging",
            "description": "Hij schreef dat hij weet waar mijn kinderen naar school gaan.",
            "when": "gisteren", "ongoing": "ja", "how": "sociale media", "perpetrator": "nee",
            "family": "ja", "internal": "ja", "aangifte": "ja", "help_wanted": "juridische hulp",
            "contact": "via deze chat"}
"""The incident most tests walk: legal help for a threat to a raadslid, contact by chat."""
INCIDENT_FOR_AFTERCARE = {**INCIDENT, "aangifte": "nee", "aangifte_address": "nee",
                          "help_wanted": "1, 3"}
"""The same, no police report yet, asking for legal help and aftercare."""


def _default(step: Step, language: str) -> str:
    if step.type == "text" and not step.option_list:
        return TYPED_FOR[step.validate_as]
    return step.option_list[0].label.get(language)


def _after(logic: ConversationLogic, snapshot: Snapshot, text: str) -> Snapshot:
    outcome = logic.turn(snapshot, InboundEvent("script", "intake", "id", text=text))
    return Snapshot(known=True, flow=outcome.flow, state=outcome.state, status=outcome.status,
                    language=outcome.language, data=outcome.data)


def intake(logic: ConversationLogic, flow: str = "incident",
           answers: Mapping[str, str] | None = None, *, until: str = "done",
           language: str = "nl", first: str = "hallo") -> list[str]:
    """The messages from ``first`` to the step ``until`` (not answered): "summary" stops at
    the summary, "done" (the default) includes confirming it. ``answers``: what to type at a
    step, by the step's name; the others get :data:`CALM_DEFAULTS` or their first option."""
    flows = logic.flows
    answers = {**CALM_DEFAULTS, **(answers or {})}
    options = flows.step("menu", "menu").option_list
    menu = next(o for o in options if o.next == FLOW_PREFIX + flow)
    messages = [first, answers.get("menu", str(options.index(menu) + 1))]
    snapshot = _after(logic, _after(logic, logic.start(language), first), messages[1])
    while snapshot.state != until and snapshot.status != COMPLETED:
        assert snapshot.flow == flow, f"the script left {flow} for {snapshot.flow}"
        step = flows.step(flow, snapshot.state)
        text = answers.get(snapshot.state) or ("ja" if step.type == "summary"
                                               else _default(step, language))
        before = snapshot.state
        snapshot = _after(logic, snapshot, text)
        assert snapshot.state != before or snapshot.status == COMPLETED, \
            f"{flow}.{before}: {text!r} did not move the intake on"
        messages.append(text)
    return messages
