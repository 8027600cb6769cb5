"""Handoff latency: many people confirm their intake at the same moment; how long until each
case's first expert has the handoff message in hand (delivered by the channel)."""

from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import select

from bench.engine import NullChannel, RunResult, script
from bot.conversation import ConversationLogic
from bot.engine import Engine as BotEngine
from bot.events import InboundEvent, OutboundMessage
from bot.routing import Router, RoutingSettings
from config import TEXT_PLACEHOLDERS, Facts, text_facts
from config.experts import Roster
from flows import load_flows
from storage.database import create_db_engine
from storage.models import Case, Person

EXPERTS = 10
# The intake up to its summary; the last line of the script before "nieuwe melding" confirms it.
TO_SUMMARY, CONFIRM = script()[:-2], script()[-2]


class ExpertInbox(NullChannel):
    """Notes when each handoff message reaches an expert (stands in for the console)."""

    name = "console"

    def __init__(self) -> None:
        self.offered_at: dict[int, float] = {}

    async def send(self, message: OutboundMessage) -> None:
        if message.recipient.startswith("expert-") and "#" in message.text:
            case_id = int(message.text.split("#", 1)[1].split()[0].rstrip(")"))
            self.offered_at.setdefault(case_id, time.perf_counter())


def roster() -> Roster:
    experts = [{"id": f"e{i}", "name": f"Expert {i}", "address": f"console:expert-{i}",
                "specialties": ["rechtshulp", "nazorg"], "max_open_cases": 50}
               for i in range(EXPERTS)]
    experts.append({"id": "coord", "name": "Coordinator", "address": "console:expert-c",
                    "coordinator": True})
    shifts = [{"specialty": s, "experts": [f"e{i}" for i in range(EXPERTS)]}
              for s in ("rechtshulp", "nazorg")]
    return Roster.model_validate({"experts": experts, "on_call": {"shifts": shifts}})


async def handoff_latency(url: str, cases: int) -> RunResult:
    db = create_db_engine(url)
    flows = load_flows(placeholders=TEXT_PLACEHOLDERS)
    facts = text_facts(Facts(), 365)
    router = Router(roster(), flows, facts, RoutingSettings())
    engine = BotEngine(db, ConversationLogic(flows, facts), router=router)
    inbox = ExpertInbox()
    await engine.start({"console": inbox})
    people = [f"person-{uuid.uuid4().hex[:8]}-{i}" for i in range(cases)]

    async def to_summary(who: str) -> None:
        for line in ["hallo", *TO_SUMMARY]:
            await engine.handle(InboundEvent("console", who, uuid.uuid4().hex, text=line))

    await asyncio.gather(*(to_summary(who) for who in people))
    confirmed_at: dict[str, float] = {}

    async def confirm(who: str) -> None:
        confirmed_at[who] = time.perf_counter()
        await engine.handle(InboundEvent("console", who, uuid.uuid4().hex, text=CONFIRM))

    started = time.perf_counter()
    await asyncio.gather(*(confirm(who) for who in people))
    await engine.drain()
    elapsed = time.perf_counter() - started
    with db.connect() as connection:
        owners = {case_id: address for case_id, address in connection.execute(
            select(Case.id, Person.address).join(Person, Person.id == Case.person_id))}
    await engine.stop()
    db.dispose()
    latencies = [(inbox.offered_at[case_id] - confirmed_at[owners[case_id]]) * 1000
                 for case_id in inbox.offered_at if owners.get(case_id) in confirmed_at]
    if len(latencies) != cases:
        raise RuntimeError(f"{cases} intakes confirmed but {len(latencies)} handoffs seen")
    return RunResult(len(latencies), elapsed, latencies)
