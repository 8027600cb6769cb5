"""The ConversationHandler comparison in the benchmark asks what the bot asks, so the two are
measured on the same conversation."""

from __future__ import annotations

import asyncio

from bench.engine import script
from bench.ptb_baseline import check_script, closed_loop
from bot.conversation import Snapshot
from bot.events import InboundEvent
from tests.harness import make_logic


def _what_the_bot_asks() -> list[str]:
    logic = make_logic()
    snapshot, asked = logic.start("nl"), []
    for line in ["hallo", *script()]:
        outcome = logic.turn(snapshot, InboundEvent("test", "p", "id", text=line))
        asked.append(outcome.replies[-1].text)
        snapshot = Snapshot(True, outcome.flow, outcome.state, outcome.status,
                            outcome.language, outcome.data)
    return asked


def test_the_conversation_handler_version_asks_the_same_questions() -> None:
    ptb, ours = check_script(), _what_the_bot_asks()
    assert len(ptb) == len(ours) == len(script()) + 1, "no 'did not understand' on either side"
    for theirs, mine in zip(ptb, ours, strict=True):
        # The bot's summary lists the answers under the same opening words.
        assert mine.startswith(theirs), (theirs[:40], mine[:40])


def test_the_baseline_measures_answered_messages() -> None:
    result = asyncio.run(closed_loop(conversations=5, seconds=0.3))
    assert result.messages > 5
    assert len(result.latencies_ms) == result.messages
