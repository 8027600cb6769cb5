"""Fuzzing with hypothesis: random sequences of anything a person can send. The bot never
crashes, every input gets a reply, and what is stored stays consistent."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.conversation import COMPLETED, PAUSED, Snapshot
from bot.events import Attachment, InboundEvent, Location, SharedContact
from storage.case_status import CaseStatus, OfferStatus
from storage.database import upgrade_database
from storage.models import Case, Handoff, Message, Person
from tests.harness import FLOWS, Bot, make_logic
from tests.intake import INCIDENT_SUBMITTED
from tests.routing_support import make_router, routed_bot
from tests.walker import LEFTOVER_PLACEHOLDER

pytestmark = pytest.mark.slow  # many generated conversations (seconds each)

LOGIC = make_logic()
INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What must never reach a person or an expert: control characters and direction overrides."""
WORDS = sorted({w for words in FLOWS.system.commands.values() for w in words}
               | {w for f in FLOWS.flows.values() for s in f.steps.values()
                  for o in s.option_list for w in (*o.words, o.label.nl, o.label.en)})
PAYLOADS = sorted({f"{f.flow}.{name}:{o.id}" for f in FLOWS.flows.values()
                   for name, s in f.steps.items() for o in s.option_list}
                  | {"confirm:yes", "confirm:no", "incident.correct:edit:role",
                     "incident.help_wanted:done"})

texts = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(["1", "2", "3", "9", "0", "1, 3", "ja", "nee", "help", "mes",
                     "15-03-2027", "06 12345678", "naam@voorbeeld.nl", "ik wil dood"]),
    st.text(max_size=60),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=10),
    st.text(alphabet=st.sampled_from(["\x7f", "\x85", "\u202e", "\u2066", "\r", "a", "1"]),
            max_size=10),
    st.just(""),
    st.just("x" * 10_000),
    st.builds(lambda w: f"/{w}", st.sampled_from(WORDS)),
)
SHARED = st.one_of(
    st.builds(Location, st.floats(-90, 90), st.floats(-180, 180)).map(
        lambda place: {"location": place}),
    st.builds(SharedContact, st.text(max_size=20), st.one_of(st.text(max_size=20),
              st.sampled_from(["+31612345678", "06 12345678"])), st.booleans()).map(
        lambda card: {"contact": card}))
events = st.one_of(
    texts.map(lambda t: {"text": t}),
    texts.map(lambda t: {"text": t, "edited": True}),  # an earlier message changed
    texts.map(lambda t: {"text": t, "forwarded": True}),  # passed on from another chat
    st.sampled_from(PAYLOADS).map(lambda p: {"option": p}),
    st.text(max_size=30).map(lambda p: {"option": p}),
    st.sampled_from(["photo", "document", "voice", "video", "audio", "sticker", "other"])
    .map(lambda k: {"attachment": Attachment(k, "ref")}),  # type: ignore[arg-type]
    SHARED,
)


def _event(content: dict[str, Any]) -> InboundEvent:
    return InboundEvent("test", "fuzz", uuid.uuid4().hex, **content)


def _check(snapshot: Snapshot) -> None:
    flow = FLOWS.flows[snapshot.flow]
    step = flow.steps[snapshot.state]
    assert step.type != "info", "nobody rests on an info step"
    assert snapshot.status in ("active", PAUSED, COMPLETED)
    json.dumps(snapshot.data)


@settings(max_examples=400, deadline=None)
@given(st.lists(events, min_size=1, max_size=30))
def test_the_logic_answers_everything_and_stays_consistent(actions: list[dict[str, Any]]) -> None:
    snapshot = LOGIC.start("nl")
    for content in actions:
        outcome = LOGIC.turn(snapshot, _event(content))
        assert outcome.replies, f"no reply to {content!r:.80}"
        for reply in outcome.replies:
            assert reply.text.strip()
            assert not INVISIBLE.search(reply.text), f"echoed {content!r:.80}"
            assert not LEFTOVER_PLACEHOLDER.search(reply.text)
            assert len({o.payload for o in reply.options}) == len(reply.options)
        if outcome.erase:
            snapshot = LOGIC.start(outcome.language)
            continue
        snapshot = Snapshot(known=True, flow=outcome.flow, state=outcome.state,
                            status=outcome.status, language=outcome.language,
                            data=outcome.data)
        _check(snapshot)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(events, min_size=1, max_size=25))
def test_the_engine_answers_everything_and_loses_nothing(
        tmp_path: Path, actions: list[dict[str, Any]]) -> None:
    url = f"sqlite:///{tmp_path / uuid.uuid4().hex}.db"
    upgrade_database(url)
    asyncio.run(_through_the_engine(url, actions))


async def _through_the_engine(url: str, actions: list[dict[str, Any]]) -> None:
    async with Bot(url) as bot:
        erased_at = -1
        for index, content in enumerate(actions):
            replies = await bot.send(_event(content))
            assert replies, f"no reply to {content!r:.80}"
            if "Al uw gegevens zijn verwijderd" in replies[-1].text:
                erased_at = index
    rows = bot.messages("fuzz")  # after the engine stopped: delivery marks are written
    inbound = [m for m in rows if m.direction == "in"]
    assert len(inbound) == len(actions) - erased_at - 1, "all since the last erasure are kept"
    assert all(m.delivered_at is not None for m in rows if m.direction == "out")
    if inbound:
        conversation = bot.conversation("fuzz")
        _check(Snapshot(True, conversation.flow, conversation.state, conversation.status,
                        conversation.language, conversation.data))


# -- people and experts at once, with routing ----------------------------------------------

PEOPLE = ("p1", "p2")
ROSTER = {"anna", "bert", "carla"}
EXPERT_COMMANDS = st.builds(
    lambda word, case, rest: f"{word} {case} {rest}".strip(),
    st.sampled_from(["aannemen", "afwijzen", "sluit", "overdragen", "notitie", "zaak",
                     "nazorg", "logboek", "zaken", "hulp", "accept", "close"]),
    st.sampled_from(["1", "2", "3", "99", "-1", "x", ""]),
    st.sampled_from(["", "bert", "anna", "3d", "stop", "iets om te onthouden"]))
HANDOFF_PAYLOADS = st.builds(lambda n, what: f"ho:{n}:{what}", st.integers(0, 6),
                             st.sampled_from(["accept", "decline", "x"]))
person_actions = st.tuples(st.sampled_from(PEOPLE), st.one_of(
    events, st.just({"intake": True}), HANDOFF_PAYLOADS.map(lambda p: {"option": p})))
expert_actions = st.tuples(st.sampled_from(["anna", "carla"]), st.one_of(
    EXPERT_COMMANDS.map(lambda t: {"text": t}), texts.map(lambda t: {"text": t}), SHARED,
    HANDOFF_PAYLOADS.map(lambda p: {"option": p})))


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(person_actions, expert_actions), min_size=1, max_size=30))
def test_people_and_experts_at_once_never_break_routing(
        tmp_path: Path, actions: list[tuple[str, dict[str, Any]]]) -> None:
    url = f"sqlite:///{tmp_path / uuid.uuid4().hex}.db"
    upgrade_database(url)
    asyncio.run(_routed(url, actions))


async def _routed(url: str, actions: list[tuple[str, dict[str, Any]]]) -> None:
    async with routed_bot(url, make_router()) as bot:
        for who, content in actions:
            if content.get("intake"):
                await bot.script(INCIDENT_SUBMITTED, who)
                continue
            before = len(bot.channel.sent)
            replies = await bot.send(InboundEvent("console", who, uuid.uuid4().hex, **content))
            await bot.engine.drain()
            # Between a person and the expert who took their case, the bot passes messages
            # on instead of answering them itself.
            passed_on = [m for m in bot.channel.sent[before:] if m.recipient != who
                         and (m.recipient in ROSTER) != (who in ROSTER)]
            assert replies or passed_on, f"{who} got no reply to {content!r:.80}"
            assert all(r.text.strip() for r in replies)
            assert not any(INVISIBLE.search(m.text) for m in bot.channel.sent[before:])
    with bot.session() as session:
        for case in session.scalars(select(Case)):
            assert case.status in set(CaseStatus)
            assert (case.assigned_expert is not None) == (case.status == CaseStatus.ASSIGNED) or \
                case.status == CaseStatus.CLOSED
            if case.assigned_expert is not None:
                assert case.assigned_expert in ROSTER, "only an expert on the roster has a case"
        for handoff in session.scalars(select(Handoff)):
            assert handoff.expert in ROSTER
        accepted = Counter(h.case_id for h in session.scalars(
            select(Handoff).where(Handoff.status == OfferStatus.ACCEPTED)))
        assert all(count == 1 for count in accepted.values()), "one expert accepts a case"
        event(f"cases accepted: {min(len(accepted), 2)}")
        people = {p.address for p in session.scalars(select(Person))}
        assert not people & ROSTER, "an expert's own messages never start an intake"
        undelivered = session.scalars(select(Message).where(
            Message.direction == "out", Message.delivered_at.is_(None))).all()
        assert undelivered == []
