"""Routing on the console, as a new user would try it: the bot as a process, the example
experts file, everyone typing in one terminal ("@anna: ..."), and a shortened escalation."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.console_process import ROOT, ConsoleBot
from tests.intake import INCIDENT_SUBMITTED

pytestmark = pytest.mark.slow  # starts the bot as a process


def test_two_experts_and_a_coordinator_on_the_console(tmp_path: Path) -> None:
    bot = ConsoleBot(tmp_path, WEERBAAR_EXPERTS_FILE=str(ROOT / "config" / "experts.example.yaml"),
                     WEERBAAR_ESCALATION_HIGH_SECONDS="1.5", WEERBAAR_HIGH_ASK_COUNT="1")
    try:
        bot.type(*INCIDENT_SUBMITTED)
        bot.wait_for("[@anna] Nieuwe zaak #1")
        bot.type("@anna: afwijzen 1")
        bot.wait_for("[@bert] Nieuwe zaak #1")
        asked_bert = time.monotonic()
        # Bert never answers: the coordinator is asked after 1.5 s.
        bot.wait_for("[@carla] Nieuwe zaak #1")
        assert time.monotonic() - asked_bert > 1.0, "not long before the configured time"
        bot.type("@carla: aannemen 1", "@carla: Goedemiddag, met Carla.",
                 "Dank u, fijn dat u er bent.", "@carla: sluit 1 advies")
        bot.wait_for("Carla heeft het gesprek afgesloten")
        assert bot.finish() == 0
    finally:
        bot.process.kill()
    output = bot.output
    assert "[@anna] U heeft zaak #1 afgewezen" in output
    assert "coördinator van het team gevraagd" in output
    assert "Carla (coördinator) gaat u helpen." in output
    assert "[@bert] Zaak #1 is al aangenomen door een collega" in output
    assert "Carla:\nGoedemiddag, met Carla." in output
    assert "[@carla] [#1] Dank u, fijn dat u er bent." in output


def test_an_urgent_case_pages_by_sms_through_the_configured_provider(tmp_path: Path) -> None:
    from tests.sms_api import ACCOUNT, TOKEN, FakeSmsApiThread

    with FakeSmsApiThread() as api:
        bot = ConsoleBot(tmp_path,
                         WEERBAAR_EXPERTS_FILE=str(ROOT / "config" / "experts.example.yaml"),
                         WEERBAAR_ESCALATION_URGENT_SECONDS="1", WEERBAAR_SMS_PROVIDER="twilio",
                         WEERBAAR_SMS_ACCOUNT=ACCOUNT, WEERBAAR_SMS_TOKEN=TOKEN,
                         WEERBAAR_SMS_FROM="Weerbaar", WEERBAAR_SMS_BASE_URL=api.url)
        try:
            bot.type("hallo", "1", "ja")  # in danger now
            bot.wait_for("[@anna] Nieuwe zaak #1")
            deadline = time.monotonic() + 20
            while {t.to for t in api.texts} != {"+31600000001", "+31600000003"}:
                assert time.monotonic() < deadline, f"paged: {api.texts}"
                time.sleep(0.1)
            bot.type("@carla: aannemen 1")
            bot.wait_for("Carla (coördinator) gaat u helpen.")
            assert bot.finish() == 0
        finally:
            bot.process.kill()
    assert all(t.body == "Weerbaar Bestuur: spoedzaak 1 wacht op u. Open uw chat."
               for t in api.texts)
    assert len(api.texts) == 2  # bert has no pager number in the example file
