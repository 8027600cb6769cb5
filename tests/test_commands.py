"""The words that always work: in every state of every flow, typed or as a slash command."""

from __future__ import annotations

import pytest

from bot.conversation import PAUSED, Snapshot
from bot.events import InboundEvent
from tests.harness import FACTS, FLOWS, make_logic
from tests.walker import walk

LOGIC = make_logic()


def _every_state() -> list[Snapshot]:
    snapshots: list[Snapshot] = []
    for flow in FLOWS.flows:
        walk(flow, "nl", visit=snapshots)
    unique = {(s.flow, s.state): s for s in snapshots}
    return list(unique.values())


STATES = _every_state()


def _text(key: str, language: str = "nl") -> str:
    return FLOWS.text(key).get(language).format_map(FACTS)


def _say(snapshot: Snapshot, text: str) -> tuple[str, object]:
    outcome = LOGIC.turn(snapshot, InboundEvent("test", "p", "id", text=text))
    return "\n".join(r.text for r in outcome.replies), outcome


def test_the_walk_reaches_the_states_a_person_can_be_in() -> None:
    assert len(STATES) >= 40


@pytest.mark.parametrize("word", ["/help", "hulp", "Help", "help"])
def test_help_works_everywhere_and_starts_with_112(word: str) -> None:
    for snapshot in STATES:
        said, _outcome = _say(snapshot, word)
        assert _text("help") in said, (snapshot.flow, snapshot.state)
        assert "112" in said


def test_help_from_the_command_menu_raises_no_alarm() -> None:
    """Telegram's menu lists /help; choosing it must not mark anything urgent."""
    for snapshot in STATES:
        said, outcome = _say(snapshot, "/help")
        assert _text("danger") not in said, (snapshot.flow, snapshot.state)
        assert not outcome.urgent  # type: ignore[attr-defined]


def test_typed_help_is_still_taken_as_a_cry_for_help() -> None:
    said, outcome = _say(STATES[0], "help")
    assert _text("danger") in said
    assert outcome.urgent  # type: ignore[attr-defined]


@pytest.mark.parametrize("word", ["stop", "/stop", "Stop!", "pauze"])
def test_stop_pauses_everywhere_and_keeps_the_question(word: str) -> None:
    for snapshot in STATES:
        said, outcome = _say(snapshot, word)
        assert _text("paused") in said
        assert outcome.status == PAUSED  # type: ignore[attr-defined]
        assert (outcome.flow, outcome.state) == (snapshot.flow, snapshot.state)  # type: ignore[attr-defined]


@pytest.mark.parametrize("word", ["mens", "/mens", "human", "/human"])
def test_a_person_is_one_word_away_everywhere(word: str) -> None:
    for snapshot in STATES:
        said, outcome = _say(snapshot, word)
        assert FACTS["support_team_number"] in said
        assert outcome.human, (snapshot.flow, snapshot.state)  # type: ignore[attr-defined]


@pytest.mark.parametrize("word", ["privacy", "/privacy"])
def test_privacy_works_everywhere(word: str) -> None:
    for snapshot in STATES:
        said, _ = _say(snapshot, word)
        assert _text("privacy") in said


@pytest.mark.parametrize("word", ["verwijder", "/verwijder", "delete", "/delete"])
def test_delete_asks_for_confirmation_everywhere(word: str) -> None:
    for snapshot in STATES:
        said, outcome = _say(snapshot, word)
        assert _text("delete_confirm") in said
        assert outcome.data["confirm"] == "delete"  # type: ignore[attr-defined]
        assert not outcome.erase  # type: ignore[attr-defined]


@pytest.mark.parametrize("word", ["taal", "/taal", "language", "/language", "english"])
def test_language_switches_everywhere_and_repeats_the_question(word: str) -> None:
    for snapshot in STATES:
        said, outcome = _say(snapshot, word)
        assert outcome.language == "en"  # type: ignore[attr-defined]
        assert _text("language_set", "en") in said
        assert (outcome.flow, outcome.state) == (snapshot.flow, snapshot.state)  # type: ignore[attr-defined]


@pytest.mark.parametrize("word", ["terug", "/terug", "back", "/back"])
def test_back_works_everywhere(word: str) -> None:
    for snapshot in STATES:
        said, outcome = _say(snapshot, word)
        history = snapshot.data["history"]
        step = FLOWS.step(snapshot.flow, snapshot.state)
        if history and step.type != "end":
            assert [outcome.flow, outcome.state] == history[-1]  # type: ignore[attr-defined]
        else:
            assert _text("back_first") in said


@pytest.mark.parametrize("word", ["opnieuw", "/opnieuw", "restart", "/restart"])
def test_restart_works_everywhere(word: str) -> None:
    for snapshot in STATES:
        said, outcome = _say(snapshot, word)
        if snapshot.data["answers"]:
            assert _text("restart_confirm") in said
        else:
            assert (outcome.flow, outcome.state) == ("menu", "menu")  # type: ignore[attr-defined]
