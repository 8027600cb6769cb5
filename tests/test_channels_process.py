"""The bot as a new user runs it: `python run_bot.py` with only WEERBAAR_* settings, talking to
a local Telegram Bot API server and to a real Synapse, then stopped with SIGTERM."""

from __future__ import annotations

import uuid
from pathlib import Path

import aiohttp
import pytest

from tests.bot_process import free_port, start_bot, stop_bot
from tests.checkin_support import CHECKIN_HELLO
from tests.intake import INCIDENT_SUBMITTED
from tests.matrix_person import MatrixPerson
from tests.synapse import Synapse
from tests.telegram_api import FakeTelegram

pytestmark = pytest.mark.slow  # starts the bot as a process


async def test_run_bot_on_telegram_through_a_bot_api_server(
        telegram: FakeTelegram, tmp_path: Path) -> None:
    health_port = free_port()
    process = await start_bot(
        tmp_path, WEERBAAR_TELEGRAM_TOKEN=telegram.token,
        WEERBAAR_TELEGRAM_BASE_URL=telegram.base_url,
        WEERBAAR_TELEGRAM_POLL_TIMEOUT_SECONDS="1", WEERBAAR_HEALTH_PORT=str(health_port))
    try:
        await telegram.wait_until(lambda: "getUpdates" in telegram.calls, within=30)
        telegram.user_says(77, "/start")
        sent = await telegram.wait_for(77, 2)
        assert sent[0].text.startswith("Welkom.")
        telegram.user_presses(77, sent[1], "Een incident melden")
        sent = await telegram.wait_for(77, 3)
        assert "bent u nu in gevaar?" in sent[2].text
        async with aiohttp.ClientSession() as http:
            health = await http.get(f"http://127.0.0.1:{health_port}/healthz")
            assert health.status == 200
            assert (await health.json())["channels"] == {"console": "ok", "telegram": "ok"}
            page = await (await http.get(f"http://127.0.0.1:{health_port}/metrics")).text()
        assert 'weerbaar_messages_total{channel="telegram",direction="in"} 2.0' in page
    finally:
        code, stderr = await stop_bot(process)
    assert code == 0, stderr
    assert "bot.stopped" in stderr
    assert telegram.token not in stderr, "the token never reaches the logs"


async def test_run_bot_on_matrix_with_a_real_homeserver(
        synapse: Synapse, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    bot_id = synapse.register(f"bot{suffix}", "bot-secret-pw")
    person_id = synapse.register(f"person{suffix}", "pw")
    process = await start_bot(
        tmp_path, WEERBAAR_MATRIX_HOMESERVER=synapse.url,
        WEERBAAR_MATRIX_USER_ID=bot_id, WEERBAAR_MATRIX_PASSWORD="bot-secret-pw")
    person = MatrixPerson(synapse.url, person_id, "pw", tmp_path / "person")
    await person.start()
    try:
        await person.open_chat_with(bot_id)
        welcome, menu = await person.exchange("hallo", replies=2)
        assert welcome.startswith("Welkom.")
        assert "4. Met een mens praten" in menu
    finally:
        await person.stop()
        code, stderr = await stop_bot(process)
    assert code == 0, stderr
    assert "bot-secret-pw" not in stderr
    assert (tmp_path / "matrix" / "credentials.json").stat().st_mode & 0o077 == 0


async def test_a_checkin_arrives_on_telegram(telegram: FakeTelegram, tmp_path: Path) -> None:
    health_port = free_port()
    process = await start_bot(
        tmp_path, WEERBAAR_TELEGRAM_TOKEN=telegram.token, WEERBAAR_HEALTH_PORT=str(health_port),
        WEERBAAR_TELEGRAM_BASE_URL=telegram.base_url, WEERBAAR_TELEGRAM_POLL_TIMEOUT_SECONDS="1",
        WEERBAAR_CHECKIN_PLANS='{"incident": [{"after": "2s"}]}',
        WEERBAAR_CHECKIN_HOURS="00:00-24:00", WEERBAAR_CHECKIN_DAYS="mon,tue,wed,thu,fri,sat,sun")
    try:
        await telegram.wait_until(lambda: "getUpdates" in telegram.calls, within=30)
        for line in INCIDENT_SUBMITTED:
            count = len(telegram.to(78))
            telegram.user_says(78, line)
            await telegram.wait_for(78, count + 1)
        assert not any(CHECKIN_HELLO in m.text for m in telegram.to(78))
        await telegram.wait_until(lambda: any("Kies een cijfer van 1" in m.text
                                              for m in telegram.to(78)), within=15)
        how = next(m for m in telegram.to(78) if "Kies een cijfer van 1" in m.text)
        assert any(CHECKIN_HELLO in m.text for m in telegram.to(78))
        assert [label for label, _ in how.buttons][:2] == ["Slecht", "Niet zo goed"]
        telegram.user_presses(78, how, "Goed")
        await telegram.wait_until(lambda: "partner, kinderen" in telegram.to(78)[-1].text)
        async with aiohttp.ClientSession() as http:
            page = await (await http.get(f"http://127.0.0.1:{health_port}/metrics")).text()
        assert 'weerbaar_checkins_total{outcome="sent"} 1.0' in page
    finally:
        code, stderr = await stop_bot(process)
    assert code == 0, stderr
