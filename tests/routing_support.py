"""A roster of two experts and a coordinator, and a router with short escalation times."""

from __future__ import annotations

from typing import Any

from bot.routing import Router, RoutingSettings
from config.experts import Roster
from tests.harness import FACTS, FLOWS, Bot


def routed_bot(url: str, router: Router) -> Bot:
    """The engine with the router, its recording channel standing in for the console."""
    return Bot(url, router=router, channel_name="console")


def roster_data(channel: str = "console", anna: str = "anna", bert: str = "bert",
                carla: str = "carla") -> dict[str, Any]:
    return {
        "experts": [
            {"id": "anna", "name": "Anna de Vries", "address": f"{channel}:{anna}",
             "specialties": ["rechtshulp"], "languages": ["nl", "en"],
             "role": {"nl": "jurist", "en": "lawyer"}},
            {"id": "bert", "name": "Bert Jansen", "address": f"{channel}:{bert}",
             "specialties": ["rechtshulp", "nazorg"], "languages": ["nl"]},
            {"id": "carla", "name": "Carla Smit", "address": f"{channel}:{carla}",
             "coordinator": True},
        ],
        "on_call": {"shifts": [
            {"specialty": "rechtshulp", "experts": ["anna", "bert"]},
            {"specialty": "nazorg", "experts": ["bert"]},
        ]},
    }


def make_router(escalation: float = 60.0, urgent: float = 60.0, ask_count: int = 2,
                channel: str = "console", high: float | None = None,
                high_ask_count: int = 1, first_contact: float = 3600) -> Router:
    """``high``: the wait of a case of level 'hoog' (the intakes here are); by default the
    same as a normal case's, asking one expert, so that these tests follow one order."""
    roster = Roster.model_validate(roster_data(channel))
    return Router(roster, FLOWS, FACTS, RoutingSettings(
        urgent_seconds=urgent, normal_seconds=escalation, urgent_ask_count=ask_count,
        high_seconds=escalation if high is None else high, high_ask_count=high_ask_count,
        first_contact_seconds=first_contact))
