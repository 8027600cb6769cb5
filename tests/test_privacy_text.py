"""The privacy text states how long data is kept, as the operator configured it."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import Facts, text_facts
from tests.console_process import ConsoleBot
from tests.harness import FLOWS

pytestmark = pytest.mark.slow  # starts the bot as a process


def _privacy(language: str, retention_days: int) -> str:
    return FLOWS.text("privacy").get(language).format_map(text_facts(Facts(), retention_days))


def test_the_privacy_text_names_the_retention_period_in_both_languages() -> None:
    assert "Dan wissen wij uw gegevens 30 dagen na het laatste contact." in _privacy("nl", 30)
    assert "we delete your data 30 days after the last contact." in _privacy("en", 30)
    assert "365 dagen" in _privacy("nl", 365)


def test_with_the_purge_off_the_privacy_text_does_not_promise_deletion() -> None:
    dutch, english = _privacy("nl", 0), _privacy("en", 0)
    assert "Wij wissen uw gegevens niet vanzelf." in dutch
    assert "0 dagen" not in dutch
    assert "We do not delete your data by ourselves." in english
    assert "Typ 'verwijder'" in dutch  # erasure on request stays possible


def test_the_console_bot_states_the_configured_period(tmp_path: Path) -> None:
    bot = ConsoleBot(tmp_path, WEERBAAR_RETENTION_DAYS="90")
    bot.type("privacy")
    bot.wait_for("90 dagen na het laatste contact")
    bot.type("english", "privacy")
    bot.wait_for("90 days after the last contact")
    assert bot.finish() == 0


def test_the_privacy_text_explains_wiping_linking_and_verification() -> None:
    dutch, english = _privacy("nl", 365), _privacy("en", 365)
    assert "Typ 'wis'. Dan haal ik deze chat van uw telefoon" in dutch
    assert "• weg: de chat meteen wissen, zonder vraag" in dutch
    assert "Typ 'koppel'. Dan horen beide accounts bij uw melding." in dutch
    assert "Type 'wipe'. Then I remove this chat from your phone" in english
    assert "Type 'link'. Then both accounts belong to your report." in english
    assert "Ik vraag u in deze chat nooit om een bewijs van wie u bent." in dutch
    assert "In this chat I will never ask you for proof of who you are." in english
