"""Urgency and verification (issue 19.3, 19.4) as the team uses them: the bot as a process, the
person and the coordinator on Telegram (the local Bot API server), an expert on Matrix (a real
Synapse). The offer names the urgency with its reasons and whether the case is verified; the
coordinator verifies and raises the level by message."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.bot_process import both_channels, experts_file, start_bot, stop_bot
from tests.intake import INCIDENT_SUBMITTED
from tests.matrix_person import MatrixPerson
from tests.synapse import Synapse
from tests.telegram_api import FakeTelegram

pytestmark = pytest.mark.slow  # starts the bot as a process

PERSON, CARLA = 601, 602


async def test_the_offer_shows_urgency_and_verification_on_both_platforms(
        telegram: FakeTelegram, synapse: Synapse, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    bot_id = synapse.register(f"bot{suffix}", "bot-pw")
    anna_id = synapse.register(f"anna{suffix}", "anna-pw")
    experts = experts_file(tmp_path / "experts.yaml", f"matrix:{anna_id}", f"telegram:{CARLA}")
    process = await start_bot(tmp_path / "data", **both_channels(
        telegram.token, telegram.base_url, synapse.url, bot_id,
        WEERBAAR_ESCALATION_HIGH_SECONDS="600", WEERBAAR_ESCALATION_URGENT_SECONDS="2",
        WEERBAAR_EXPERTS_FILE=str(experts)))
    anna = MatrixPerson(synapse.url, anna_id, "anna-pw", tmp_path / "anna")
    await anna.start()

    async def carla_says(text: str) -> str:
        before = len(telegram.to(CARLA))
        telegram.user_says(CARLA, text)
        return (await telegram.wait_for(CARLA, before + 1, within=30))[-1].text

    try:
        await anna.open_chat_with(bot_id)
        await anna.exchange("zaken")
        await telegram.wait_until(lambda: "getUpdates" in telegram.calls, within=30)
        for line in INCIDENT_SUBMITTED:
            before = len(telegram.to(PERSON))
            telegram.user_says(PERSON, line)
            await telegram.wait_for(PERSON, before + 1, within=30)
        offer = (await anna.wait_for(2, within=30))[-1]
        assert "Nieuwe zaak #1\n" in offer, "level hoog, not SPOED"
        assert "• Urgentie: hoog (gaat nog door; partner of gezin betrokken)" in offer
        assert "• Niet geverifieerd" in offer
        assert "Zaak #1 is geverifieerd: gebeld via de griffie" in await carla_says(
            "verifieer 1 gebeld via de griffie")
        assert "Zaak #1 heeft nu urgentie spoed." in await carla_says("urgentie 1 spoed")
        # Raised to spoed, the case moves on within the urgent time: Carla is asked, and her
        # offer on Telegram shows both marks.
        await telegram.wait_until(lambda: any("Nieuwe zaak #1 (SPOED)" in m.text
                                              for m in telegram.to(CARLA)), within=30)
        carla_offer = next(m for m in telegram.to(CARLA) if "Nieuwe zaak #1" in m.text)
        assert "• Urgentie: spoed, gekozen door Carla" in carla_offer.text
        assert "• Geverifieerd door Carla: gebeld via de griffie" in carla_offer.text
        assert [label for label, _ in carla_offer.buttons] == ["Aannemen", "Afwijzen"]
        person = " ".join(m.text for m in telegram.to(PERSON)).lower()
        assert "verifi" not in person and "gebeld via de griffie" not in person, \
            "the person is never told"
    finally:
        await anna.stop()
        code, stderr = await stop_bot(process)
    assert code == 0, stderr
    assert "gebeld via" not in stderr, "what an expert typed is not logged"
