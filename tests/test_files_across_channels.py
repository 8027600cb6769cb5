"""A person on Telegram and an expert on Matrix, as production often has it: the files they
send each other arrive as files, byte for byte (the bot fetches from one platform and uploads
to the other), and nothing of them is stored by the bot but the reference."""

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

PERSON = 501
SCREENSHOT = b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes * 64
LETTER = b"%PDF-1.4 " + uuid.uuid4().bytes * 32


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_files_go_both_ways_between_telegram_and_matrix(
        telegram: FakeTelegram, synapse: Synapse, tmp_path: Path, encrypted: bool) -> None:
    suffix = uuid.uuid4().hex[:8]
    bot_id = synapse.register(f"bot{suffix}", "bot-pw")
    anna_id = synapse.register(f"anna{suffix}", "anna-pw")
    carla_id = synapse.register(f"carla{suffix}", "carla-pw")
    experts = experts_file(tmp_path / "experts.yaml", f"matrix:{anna_id}", f"matrix:{carla_id}")
    process = await start_bot(tmp_path / "data", **both_channels(
        telegram.token, telegram.base_url, synapse.url, bot_id,
        WEERBAAR_EXPERTS_FILE=str(experts)))
    anna = MatrixPerson(synapse.url, anna_id, "anna-pw", tmp_path / "anna",
                        encryption=encrypted)
    await anna.start()
    try:
        await anna.open_chat_with(bot_id, encrypted=encrypted)
        await anna.exchange("zaken")  # the bot now knows Anna's room
        await telegram.wait_until(lambda: "getUpdates" in telegram.calls, within=30)
        for line in INCIDENT_SUBMITTED:
            before = len(telegram.to(PERSON))
            telegram.user_says(PERSON, line)
            await telegram.wait_for(PERSON, before + 1)
        telegram.user_sends_photo(PERSON, data=SCREENSHOT)
        offer = await anna.wait_for(2, within=30)
        assert "Nieuwe zaak #1" in offer[-1]

        await anna.say("aannemen 1")
        await anna.wait_until_files(1)
        body, data = anna.files[0]
        assert data == SCREENSHOT, "the person's photo arrives on Matrix as it was sent"
        assert "De persoon stuurt een bestand (photo)" in body
        assert not any("niet doorsturen" in text for text in anna.received)

        before = len(telegram.to(PERSON))
        await anna.send_image(LETTER, name="brief.pdf")
        sent = await telegram.wait_for(PERSON, before + 1, within=30)
        photo = sent[-1]
        assert photo.file is not None and photo.data == LETTER
        assert "Anna stuurt u een bestand." in photo.text

        # In the conversation, a photo goes straight on; one Telegram no longer has goes
        # as a note (it stays kept with the case).
        telegram.user_sends_photo(PERSON, data=SCREENSHOT[::-1])
        await anna.wait_until_files(2)
        assert anna.files[1][1] == SCREENSHOT[::-1]
        telegram.files.clear()
        telegram.user_sends_photo(PERSON)
        await anna.wait_until(lambda: any("Het bestand kon ik niet doorsturen" in text
                                          for text in anna.received))
    finally:
        await anna.stop()
        code, stderr = await stop_bot(process)
    assert code == 0, stderr
    assert stderr.count("delivery.file_unavailable") == 1
