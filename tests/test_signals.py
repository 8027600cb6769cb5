"""Danger-now and crisis signals: examples that must trigger, and that must not."""

from __future__ import annotations

import pytest

from bot.conversation import ConversationLogic
from tests.harness import FLOWS

DETECTOR = ConversationLogic(FLOWS, {}).signals  # the word lists and the model, as the bot

MUST_SIGNAL_DANGER = [
    "hij staat voor de deur",
    "Er staat iemand voor mijn huis!!",
    "Er staat een man met een mes",
    "Hij heeft een wapen",
    "ze hebben wapens bij zich",
    "Er is brand",
    "Mijn auto staat in brand",
    "help",
    "HELP!",
    "Help me alsjeblieft",
    "er wordt geschoten",
    "Ik word gevolgd door een auto",
    "ik ben bang dat hij me vermoordt",
    "Er is iemand in mijn huis",
    "iemand breekt in",
    "Ik ben in gevaar",
    "Hij slaat me",
    "someone is at my door",
    "He has a knife",
    "they are outside my house",
    "there is a fire",
    "my car is on fire",
    "Someone is following me",
    "He has a gun",
    "I am in danger",
    "emergency",
    "Bél 112",
    "Ze staan voor ons huis te schreeuwen",
]

MUST_SIGNAL_CRISIS = [
    "ik denk aan zelfmoord",
    "Ik wil niet meer leven",
    "soms wil ik dood",
    "I want to kill myself",
    "I want to end my life",
]

MUST_NOT_SIGNAL = [
    "hallo",
    "Ik wil graag advies over aangifte doen.",
    "Gisteren was de raadsvergadering.",
    "Ik ben niet in gevaar.",
    "Er is geen direct gevaar",
    "Ze hebben mijn adres online gezet.",
    "wethouder",
    "Ik kreeg een bericht via Messenger",
    "Dat was een gunstig moment",
    "De brandweerkazerne ligt naast het gemeentehuis",
    "Kunt u mij helpen met een melding?",
    "I am not in danger",
    "Ik wil met iemand praten",
    "gemeente Utrecht",
    "Ik werd uitgescholden op Facebook",
    "1",
    "nee",
]


@pytest.mark.parametrize("text", MUST_SIGNAL_DANGER)
def test_danger_now_is_recognised(text: str) -> None:
    assert DETECTOR.check(text).danger


@pytest.mark.parametrize("text", MUST_SIGNAL_CRISIS)
def test_a_crisis_is_recognised(text: str) -> None:
    assert DETECTOR.check(text).crisis


@pytest.mark.parametrize("text", MUST_NOT_SIGNAL)
def test_ordinary_messages_do_not_raise_the_alarm(text: str) -> None:
    assert not DETECTOR.check(text)


def test_sleeping_badly_is_not_taken_for_a_beating() -> None:
    from tests.harness import make_logic

    signals = make_logic().signals
    assert not signals.check("Niet zo goed, ik slaap slecht.")
    assert signals.check("hij sloeg me").danger


def test_a_habit_told_as_a_pattern_is_quiet_until_it_happens_now() -> None:
    """A stalking story ("every evening") is an account, not an alarm; "and now again" is."""
    assert not DETECTOR.check("Hij staat elke avond bij de school van mijn kinderen.")
    assert not DETECTOR.check("he waits for me at the station most days")
    assert DETECTOR.check("Hij staat elke avond bij mijn huis en nu staat hij er weer").danger
    assert DETECTOR.check("he waits outside every night and hes outside right now").danger
