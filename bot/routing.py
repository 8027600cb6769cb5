"""Routing a case to on-call experts: who is asked, when it moves on, and what the person and
the experts are told. Runs in the engine's database thread, inside the batch transaction, so
a handoff, its messages and its escalation time are committed together or not at all; the
escalation time lives in the database and so survives a restart.

Order of asking: the on-call experts for the specialties the case needs, the one with the
fewest open cases first (an urgent case asks several at once); when nobody accepts in time,
the next; at last the coordinators on call, who are then reminded until someone accepts.
Experts asked earlier can still accept; the first accept wins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from bot.case_marks import mark_lines
from bot.case_moves import next_status
from bot.desk.links import DeskLinks
from bot.events import Attachment, Location, OutboundOption, SharedContact
from bot.metrics import Metrics
from bot.paging import page_silent_experts
from bot.write_buffer import TurnContext, attachment_from
from config.experts import COORDINATOR, Expert, Roster
from flows.loader import FlowSet
from flows.summary import answers_of, describe, specialties
from storage import case_access as access
from storage import cases as db
from storage.case_status import CaseStatus, OfferStatus
from storage.case_types import CaseInfo

log = logging.getLogger(__name__)

COORDINATOR_LEVEL = 1000
Answers = tuple[str, dict[str, Any], bool]
"""(flow, answers by step, complete) of a case."""
HANDOFF_PREFIX = "ho:"
RELAY_LIMIT = 4000
"""The most of one text of a person that goes to an expert in one message; the whole text is
kept with the case, and the expert reads it with 'volledig 12'."""
ADDITION_LIMIT = 1000
"""The most of one addition shown in the case file an expert gets on taking a case."""


@dataclass(frozen=True)
class RoutingSettings:
    """Per urgency level (see ``flows/triage.yaml``): how long an offer waits before the case
    moves on, and how many experts are asked at once."""

    urgent_seconds: float = 300
    normal_seconds: float = 1800
    urgent_ask_count: int = 3
    high_seconds: float = 900
    high_ask_count: int = 2
    first_contact_seconds: float = 3600
    """An expert who took a case and wrote nothing to the person in this time is reminded
    (see :mod:`bot.first_contact`); 0: never."""
    paging: bool = False
    """An SMS provider is configured: silent experts of an urgent case are paged."""
    desk: DeskLinks | None = None
    """The web desk is on: the chat gives out its sign-in links and calendar feeds."""

    def seconds_for(self, level: str) -> float:
        return {"spoed": self.urgent_seconds, "hoog": self.high_seconds}.get(
            level, self.normal_seconds)

    def ask_count_for(self, level: str) -> int:
        return {"spoed": self.urgent_ask_count, "hoog": self.high_ask_count}.get(level, 1)


class RoutingTexts:
    def __init__(self, flows: FlowSet, facts: dict[str, str]) -> None:
        self.routing = flows.routing
        self.facts = facts

    def t(self, key: str, language: str, **fields: Any) -> str:
        return self.routing.texts[key].get(language).format_map({**self.facts, **fields})

    def cap(self, text: str, language: str, case: int, limit: int = RELAY_LIMIT,
            ) -> tuple[str, bool]:
        """``text`` cut to ``limit`` characters, with a note on how to read all of it;
        and whether it was cut."""
        if len(text) <= limit:
            return text, False
        note = self.t("expert_text_cut", language, case=case, count=len(text) - limit)
        return f"{text[:limit].rstrip()} …\n{note}", True

    def specialty(self, name: str, language: str) -> str:
        text = self.routing.specialties.get(name)
        return text.get(language) if text else name

    def outcome(self, name: str, language: str) -> str:
        text = self.routing.outcomes.get(name)
        return text.get(language) if text else name

    @staticmethod
    def wait(seconds: float, language: str) -> str:
        """A waiting time in words: "5 minuten", "1 minute", "30 seconds"."""
        if seconds < 60:
            count, one, many = round(seconds), ("seconde", "second"), ("seconden", "seconds")
        elif seconds < 7200:
            count, one, many = round(seconds / 60), ("minuut", "minute"), ("minuten", "minutes")
        else:
            count, one, many = round(seconds / 3600), ("uur", "hour"), ("uur", "hours")
        words = one if count == 1 else many
        return f"{count} {words[1] if language == 'en' else words[0]}"


def choose_experts(roster: Roster, at: datetime, needed: list[str], language: str,
                   counts: dict[str, int], exclude: set[str], how_many: int) -> list[Expert]:
    """The next experts to ask: on call for a needed specialty (any specialty when none is
    named), not asked before, with room for a case; fewest open cases first, then those who
    speak the person's language, then those who cover most of what is needed."""
    on_call = roster.on_call_at(at)
    wanted = needed or [s for s in on_call if s != COORDINATOR]
    coverage: dict[str, int] = {}
    for specialty in wanted:
        for expert_id in on_call.get(specialty, ()):
            coverage[expert_id] = coverage.get(expert_id, 0) + 1
    pool = []
    for expert_id, covered in coverage.items():
        expert = roster.by_id(expert_id)
        if expert is None or expert_id in exclude:
            continue
        if counts.get(expert_id, 0) >= expert.max_open_cases:
            continue
        pool.append((counts.get(expert_id, 0), language not in expert.languages, -covered,
                     expert_id, expert))
    pool.sort(key=lambda item: item[:4])
    return [item[4] for item in pool[:how_many]]


def on_call_coordinators(roster: Roster, at: datetime) -> list[Expert]:
    ids = roster.on_call_at(at).get(COORDINATOR, ())
    return [e for e in (roster.by_id(i) for i in ids) if e is not None]


class Router:
    def __init__(self, roster: Roster, flows: FlowSet, facts: dict[str, str],
                 settings: RoutingSettings, metrics: Metrics | None = None) -> None:
        self.flows = flows
        self.texts = RoutingTexts(flows, facts)
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.roster = roster
        self._by_address = {(e.channel, e.channel_id): e for e in roster.experts}
        self.roster_before: Roster | None = None
        """The roster before the last change, until :mod:`bot.rota_notices` told the
        experts whose shifts it changed."""

    def use_roster(self, roster: Roster) -> None:
        """Use a changed roster from now on (call in the database thread, between batches);
        :meth:`release_removed` then gives the cases of experts who left to others."""
        if self.roster_before is None:
            self.roster_before = self.roster  # until the experts are told what changed
        self.roster = roster
        self._by_address = {(e.channel, e.channel_id): e for e in roster.experts}

    def expert_at(self, channel: str, address: str) -> Expert | None:
        """The expert writing from this channel address, if it is one."""
        return self._by_address.get((channel, address))

    @property
    def active(self) -> bool:
        return bool(self.roster.experts)

    def timeout(self, case: CaseInfo) -> float:
        return self.settings.seconds_for(case.urgency)

    # -- asking ------------------------------------------------------------------------------

    def start(self, turn: TurnContext, case: CaseInfo,
              current: Answers | None = None, needed: list[str] | None = None,
              **case_values: Any) -> str:
        """Hand a case off for the first time; returns the notice for the person.
        ``current``: the answers as the turn has them (saves reading them back);
        ``needed``: the specialties, instead of those the answers ask for;
        ``case_values``: other changes to the case, written in the same update."""
        answers = current or self.answers(turn.db, case)
        flow = self.flows.flows.get(answers[0])
        if needed is None:
            needed = specialties(flow, answers[1]) if flow is not None else []
        first_asked = case.first_asked_at or turn.now
        status = next_status(case.status, "hand_off")
        case = replace(case, status=status, specialties=needed, first_asked_at=first_asked,
                       escalation_level=0)
        case_values.update(status=status, specialties=needed, first_asked_at=first_asked)
        notice = self.texts.t("handoff_asked", case.language,
                              wait=self.texts.wait(self.timeout(case), case.language))
        if case.blocked or access.is_blocked(turn.db, case.person_id):
            # Held: nobody is asked and nothing moves it on until a coordinator lifts the
            # block; the account is told what it is always told, so it learns nothing.
            db.update_case(turn.db, case.id, turn.now, escalate_at=None, **case_values)
            turn.audit("bot", "held", case.id, "blocked")
            log.info("case.held case=%s", case.id)
            return notice
        self.ask_next(turn, case, answers=answers, first=True, **case_values)
        log.info("case.handoff case=%s urgent=%s", case.id, case.urgent)
        return notice

    def release_held(self, turn: TurnContext, person_id: int) -> list[int]:
        """A block was lifted: the person's cases held while it lasted are offered now."""
        released = []
        for case in db.open_cases_of_person(turn.db, person_id):
            offers = db.handoffs_of_case(turn.db, case.id)
            if case.status != CaseStatus.ASKING or \
                    any(h.status == OfferStatus.ASKED for h in offers):
                continue
            self.ask_next(turn, replace(case, blocked=False), first=not offers)
            turn.audit("bot", "released", case.id)
            released.append(case.id)
        return released

    def hasten(self, turn: TurnContext, case: CaseInfo) -> None:
        """A case that became more urgent while waiting: move on after its level's time at
        most (``case`` has the new level)."""
        if case.blocked:
            return
        sooner = turn.now + timedelta(seconds=self.timeout(case))
        db.bring_forward(turn.db, case.id, turn.now, sooner)

    def escalate_due(self, turn: TurnContext) -> int:
        due = db.due_cases(turn.db, turn.now)
        for case in due:
            if not case.blocked:
                page_silent_experts(self, turn, case)
            self.escalate(turn, case)
        return len(due)

    def escalate(self, turn: TurnContext, case: CaseInfo) -> None:
        """Nobody accepted in time (or everyone asked declined): ask the next."""
        if case.blocked:  # held until the block is lifted
            db.update_case(turn.db, case.id, turn.now, escalate_at=None)
            return
        wait = self.texts.wait(self.timeout(case), case.language)
        step = self.ask_next(turn, case)
        self.metrics.escalations.labels(step).inc()
        log.info("case.escalated case=%s to=%s", case.id, step)
        key = {"expert": "escalated", "coordinator": "escalated_coordinator",
               "reminder": "still_waiting"}[step]
        if step == "reminder" and case.escalation_level > COORDINATOR_LEVEL:
            return  # the person was told once; the coordinators keep being reminded
        self.tell_person(turn, case, self.texts.t(key, case.language, wait=wait))

    def release_removed(self, turn: TurnContext) -> int:
        """Cases taken by, or offered to, experts no longer on the roster go back to routing;
        returns how many cases moved. A taken case is asked afresh (the person is told); an
        offer is withdrawn, and a case left without open offers moves on at once."""
        on_roster = [e.id for e in self.roster.experts]
        moved = 0
        for case in db.cases_assigned_outside(turn.db, on_roster):
            mine = [h.id for h in db.handoffs_of_case(turn.db, case.id)
                    if h.status == OfferStatus.ACCEPTED and h.expert == case.assigned_expert]
            db.set_handoff_status(turn.db, mine, OfferStatus.TRANSFERRED, turn.now)
            db.update_case(turn.db, case.id, turn.now, status=next_status(case.status, "release"),
                           assigned_expert=None, escalation_level=0)
            turn.audit("bot", "released", case.id, detail=case.assigned_expert)
            log.info("case.released case=%s", case.id)
            self.tell_person(turn, case, self.texts.t("expert_left", case.language))
            released = db.load_case(turn.db, case.id)
            assert released is not None
            self.ask_next(turn, released)
            moved += 1
        offers = db.offers_outside(turn.db, on_roster)
        db.set_handoff_status(turn.db, [h.id for h in offers], OfferStatus.WITHDRAWN, turn.now)
        for case_id in sorted({h.case_id for h in offers}):
            turn.audit("bot", "offer_withdrawn", case_id)
            still_asked = any(h.status == OfferStatus.ASKED
                              for h in db.handoffs_of_case(turn.db, case_id))
            if not still_asked:
                db.update_case(turn.db, case_id, turn.now, escalate_at=turn.now)
                moved += 1
        return moved

    def ask_next(self, turn: TurnContext, case: CaseInfo, *,
                 answers: Answers | None = None, first: bool = False,
                 **case_values: Any) -> str:
        """Ask the next experts and set when to move on (with ``case_values``, in one
        update); returns which step that was. ``first``: the case was never handed off."""
        asked = set() if first else {h.expert for h in db.handoffs_of_case(turn.db, case.id)}
        due = turn.now + timedelta(seconds=self.timeout(case))
        if case.escalation_level >= COORDINATOR_LEVEL:
            pending = [h for h in db.handoffs_of_case(turn.db, case.id)
                       if h.status == OfferStatus.ASKED]
            for handoff in pending:
                expert = self.roster.by_id(handoff.expert)
                if expert is not None and expert.coordinator:
                    self._post_handoff(turn, case, expert, handoff.id, reminder=True)
            for expert in on_call_coordinators(self.roster, turn.now):
                if expert.id not in asked:
                    self._ask(turn, case, expert, COORDINATOR_LEVEL, answers)
            db.update_case(turn.db, case.id, turn.now, escalate_at=due,
                           escalation_level=case.escalation_level + 1, **case_values)
            return "reminder"
        how_many = self.settings.ask_count_for(case.urgency)
        if turn.writes.expert_counts is None:  # read once a batch; an accept clears it
            turn.writes.expert_counts = db.open_counts(turn.db, (e.id for e in self.roster.experts))
        counts = turn.writes.expert_counts
        experts = choose_experts(self.roster, turn.now, case.specialties, case.language, counts,
                                 asked, how_many)
        if experts:
            level = case.escalation_level + 1
            step = "expert"
        else:
            experts = [e for e in on_call_coordinators(self.roster, turn.now)
                       if e.id not in asked] or on_call_coordinators(self.roster, turn.now)
            level, step = COORDINATOR_LEVEL, "coordinator"
        for expert in experts:
            self._ask(turn, case, expert, level, answers)
        db.update_case(turn.db, case.id, turn.now, escalate_at=due, escalation_level=level,
                       **case_values)
        return step

    def _ask(self, turn: TurnContext, case: CaseInfo, expert: Expert, level: int,
             answers: Answers | None) -> None:
        handoff_id = db.insert_handoff(turn.db, case.id, expert.id, level, turn.now)
        turn.audit("bot", "asked", case.id, detail=expert.id)
        self.metrics.handoffs.labels(str(case.urgent).lower()).inc()
        self._post_handoff(turn, case, expert, handoff_id, reminder=False,
                           answers=answers)

    def _post_handoff(self, turn: TurnContext, case: CaseInfo, expert: Expert,
                      handoff_id: int, *, reminder: bool,
                      answers: Answers | None = None) -> None:
        language = expert.language
        urgent = self.texts.t("expert_urgent_mark", language) \
            if case.urgency == "spoed" else ""
        if reminder:
            waited = (turn.now - (case.first_asked_at or case.created_at)).total_seconds()
            text = self.texts.t("expert_reminder", language, case=case.id, urgent=urgent,
                                wait=self.texts.wait(waited, language))
        else:
            text = self.texts.t("expert_handoff", language, case=case.id, urgent=urgent,
                                summary=self.brief(turn.db, case, language, answers))
        options = [
            OutboundOption(f"{HANDOFF_PREFIX}{handoff_id}:accept",
                           self.texts.t("expert_accept_label", language)),
            OutboundOption(f"{HANDOFF_PREFIX}{handoff_id}:decline",
                           self.texts.t("expert_decline_label", language)),
        ]
        self.tell_expert(turn, case, expert, text, options=options)

    # -- what experts see ---------------------------------------------------------------------

    def answers(self, cx: Connection, case: CaseInfo) -> Answers:
        """(flow, answers by step, complete) of a case: the submitted intake, or else the
        answers so far in its conversation."""
        if case.intake.get("answers") is not None:
            return str(case.intake.get("flow", case.kind)), dict(case.intake["answers"]), True
        found = (db.conversation_answers(cx, case.conversation_id)
                 if case.conversation_id is not None else None)
        if found is None:
            return case.kind, {}, False
        flow, answers, _ = found
        return flow, answers_of(flow, answers), False

    def brief(self, cx: Connection, case: CaseInfo, language: str,
              known: Answers | None = None) -> str:
        """What an expert sees before accepting: the kind, the options chosen, the needs; no
        free text or contact details."""
        flow, answers, complete = known or self.answers(cx, case)
        lines = [self.texts.t("expert_intake_heading", language, flow=flow,
                              lang=case.language)]
        if flow in self.flows.flows:
            lines += describe(self.flows.flows[flow], answers, language, brief=True)
        if case.specialties:
            named = ", ".join(self.texts.specialty(s, language) for s in case.specialties)
            lines.append("• " + self.texts.t("expert_intake_specialties", language,
                                             specialties=named))
        if not complete:
            lines.append(self.texts.t("expert_intake_partial", language))
        lines += mark_lines(self.texts, self.flows.triage, case, language, self.first_name)
        return "\n".join(lines)

    def first_name(self, expert_id: str) -> str:
        """An expert's first name; the id of one no longer on the roster."""
        expert = self.roster.by_id(expert_id)
        return expert.first_name if expert is not None else expert_id

    def full_intake(self, cx: Connection, case: CaseInfo, language: str,
                    limit: int | None = RELAY_LIMIT) -> str:
        """Every answer of the intake; a long free text cut at ``limit`` (``None``: all)."""
        flow, answers, complete = self.answers(cx, case)
        lines = [self.texts.t("expert_intake_heading", language, flow=flow,
                              lang=case.language)]
        described = (describe(self.flows.flows[flow], answers, language, brief=False,
                              limit=limit)
                     if flow in self.flows.flows else [])
        lines += described or [self.texts.t("expert_intake_empty", language)]
        if not complete:
            lines.append(self.texts.t("expert_intake_partial", language))
        return "\n".join(lines)

    def evidence(self, cx: Connection, case: CaseInfo, language: str
                 ) -> tuple[list[tuple[bool, str]], list[Attachment]]:
        """What was written in the case, in order, as (by an expert, text), and the person's
        files. An expert who takes over a case from a colleague reads the conversation so far."""
        texts: list[tuple[bool, str]] = []
        files: list[Attachment] = []
        for kind, body in db.case_messages(cx, case.id):
            by_expert = kind == db.EXPERT_MESSAGE
            if (attachment := attachment_from(body.get("attachment"))) is not None:
                if not by_expert:
                    files.append(attachment)
            elif (place := Location.from_body(body.get("location"))) is not None:
                texts.append((by_expert, self.texts.t("location_line", language,
                                                      **place.text_fields())))
            elif (card := SharedContact.from_body(body.get("contact"))) is not None:
                texts.append((by_expert, self.texts.t("contact_line", language,
                                                      **card.text_fields())))
            elif body.get("text"):
                texts.append((by_expert, str(body["text"])))
        return texts, files

    # -- sending -----------------------------------------------------------------------------

    def tell_person(self, turn: TurnContext, case: CaseInfo, text: str,
                    attachment: Attachment | None = None) -> None:
        turn.writes.post(turn.result, channel=case.channel, address=case.address, text=text,
                         language=case.language, person_id=case.person_id,
                         conversation_id=case.conversation_id, case_id=case.id,
                         attachment=attachment)

    def tell_expert(self, turn: TurnContext, case: CaseInfo | None,
                    expert: Expert, text: str, *,
                    options: list[OutboundOption] | None = None,
                    attachment: Attachment | None = None, continued: str | None = None,
                    ) -> None:
        """A message to an expert. It hangs off the case's person, so erasing the person
        erases it too (``case`` None: a notice that must outlive the person).
        ``continued``: see :meth:`WriteBuffer.post`."""
        turn.writes.post(turn.result, channel=expert.channel, address=expert.channel_id, text=text,
                         language=expert.language, person_id=case.person_id if case else None,
                         case_id=case.id if case else None, options=options or (),
                         attachment=attachment, sticky=bool(options), continued=continued)
