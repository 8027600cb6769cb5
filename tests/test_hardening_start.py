"""Starting as an operator would, with settings that must be refused, and logs that must
never hold a person's words or a secret, at any level."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from storage.models import Message
from tests.bot_process import ROOT, start_bot, stop_bot
from tests.telegram_api import FakeTelegram

pytestmark = pytest.mark.slow  # starts the bot as a process

REAL_LOOKING_TOKEN = "4242424242:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


async def run_to_end(data_dir: Path, stdin: bytes = b"", **env: str) -> tuple[int, str, str]:
    """`run_bot.py` with these settings and this console input, until it exits."""
    environment = {k: v for k, v in __import__("os").environ.items()
                   if not k.startswith("WEERBAAR_")}
    environment.update(WEERBAAR_DATA_DIR=str(data_dir), **env)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "run_bot.py", cwd=ROOT, env=environment,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def inbound_count(data_dir: Path) -> int:
    engine = create_engine(f"sqlite:///{data_dir / 'weerbaar.db'}")
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(Message)
                                          .where(Message.direction == "in")).scalar_one())
    finally:
        engine.dispose()


async def test_a_start_with_keys_that_cannot_read_the_database_is_refused(
        tmp_path: Path) -> None:
    code, out, _ = await run_to_end(tmp_path, b"hallo\n")
    assert code == 0 and "Welkom" in out
    (tmp_path / "other.key").write_text("Mk8YhM0Bq5G1w0lF8n9k3fJ2rV6tXy1uZcQe4sTnWdA=\n")
    code, out, err = await run_to_end(tmp_path, b"1\n",
                                      WEERBAAR_ENCRYPTION_KEY_FILE=str(tmp_path / "other.key"))
    assert code == 2
    assert "cannot read this database" in err and "WEERBAAR_ENCRYPTION_KEY" in err
    assert "bewaard" not in out, "nobody is told their message was saved"
    assert inbound_count(tmp_path) == 1, "nothing was stored with the wrong key"
    code, out, _ = await run_to_end(tmp_path, b"1\n")
    assert code == 0 and "bent u nu in gevaar?" in out, "the right key goes on as before"


async def test_a_webhook_without_a_secret_does_not_start(tmp_path: Path) -> None:
    code, _, err = await run_to_end(
        tmp_path, WEERBAAR_TELEGRAM_TOKEN=REAL_LOOKING_TOKEN, WEERBAAR_CHANNELS="telegram",
        WEERBAAR_TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram")
    assert code == 2
    assert "WEERBAAR_TELEGRAM_WEBHOOK_SECRET" in err
    assert REAL_LOOKING_TOKEN not in err


async def test_a_token_telegram_refuses_is_named_but_never_printed(tmp_path: Path) -> None:
    telegram = FakeTelegram(token="1:the-right-one")
    await telegram.start()
    try:
        code, _, err = await run_to_end(
            tmp_path, WEERBAAR_TELEGRAM_TOKEN=REAL_LOOKING_TOKEN, WEERBAAR_CHANNELS="telegram",
            WEERBAAR_TELEGRAM_BASE_URL=telegram.base_url)
    finally:
        await telegram.stop()
    assert code == 2
    assert "Telegram refused the bot token (check WEERBAAR_TELEGRAM_TOKEN)" in err
    assert REAL_LOOKING_TOKEN not in err
    assert REAL_LOOKING_TOKEN.partition(":")[2] not in err
    assert "Traceback" not in err


MARKERS = ("Vertrouwelijk-Ergenshuizen", "Pietje-Puk-dreigt", "+31 6 12345678")


async def test_debug_logs_over_telegram_hold_no_words_and_no_token(
        tmp_path: Path) -> None:
    telegram = FakeTelegram(token=REAL_LOOKING_TOKEN)
    await telegram.start()
    process = await start_bot(
        tmp_path, WEERBAAR_TELEGRAM_TOKEN=REAL_LOOKING_TOKEN, WEERBAAR_CHANNELS="telegram",
        WEERBAAR_TELEGRAM_BASE_URL=telegram.base_url, WEERBAAR_LOG_LEVEL="DEBUG",
        WEERBAAR_TELEGRAM_POLL_TIMEOUT_SECONDS="1")
    try:
        await telegram.wait_until(lambda: "getUpdates" in telegram.calls, within=30)
        await telegram.user_types(77, [("hallo", 2), "1", "nee", "raadslid", "gemeente",
                                       MARKERS[0], "bedreiging", MARKERS[1]])
        telegram.push_raw({"message": {"message_id": 1, "text": MARKERS[2]}})  # unreadable
        await telegram.user_types(77, ["gisteren"])
    finally:
        code, stderr = await stop_bot(process)
        await telegram.stop()
    assert code == 0
    assert "turn flow=incident" in stderr, "DEBUG and INFO records of the bot are there"
    for secret in (*MARKERS, REAL_LOOKING_TOKEN, REAL_LOOKING_TOKEN.partition(":")[2]):
        assert secret not in stderr


async def test_a_misspelt_key_setting_stops_the_bot_before_it_makes_a_key(
        tmp_path: Path) -> None:
    key = "Mk8YhM0Bq5G1w0lF8n9k3fJ2rV6tXy1uZcQe4sTnWdA="
    code, out, err = await run_to_end(tmp_path, b"hallo\n", WEERBAAR_ENCRYPTION_KEY=key)
    assert code == 2
    assert "unknown setting WEERBAAR_ENCRYPTION_KEY " in err
    assert "did you mean WEERBAAR_ENCRYPTION_KEYS?" in err
    assert key not in err
    assert not (tmp_path / "encryption.key").exists() and out == ""


async def test_the_database_and_key_files_are_private(tmp_path: Path) -> None:
    code, _, _ = await run_to_end(tmp_path, b"hallo\n")
    assert code == 0
    for name in ("weerbaar.db", "encryption.key"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name
    (tmp_path / "weerbaar.db").chmod(0o644)  # as an older version made it
    code, _, _ = await run_to_end(tmp_path, b"1\n")
    assert code == 0
    modes = await asyncio.to_thread(
        lambda: [f.stat().st_mode & 0o777 for f in tmp_path.glob("weerbaar.db*")])
    assert modes and set(modes) == {0o600}


async def test_a_weak_key_is_refused(tmp_path: Path) -> None:
    zero = "A" * 43 + "="
    code, out, err = await run_to_end(tmp_path, b"hallo\n", WEERBAAR_ENCRYPTION_KEYS=zero)
    assert code == 2 and "too weak" in err and zero not in err and out == ""


async def test_a_key_file_beside_the_database_is_warned_about_with_a_network_channel(
        tmp_path: Path) -> None:
    telegram = FakeTelegram()
    await telegram.start()
    process = await start_bot(tmp_path, WEERBAAR_TELEGRAM_TOKEN=telegram.token,
                              WEERBAAR_TELEGRAM_BASE_URL=telegram.base_url,
                              WEERBAAR_CHANNELS="telegram")
    try:
        await telegram.wait_until(lambda: "getUpdates" in telegram.calls, within=30)
    finally:
        code, stderr = await stop_bot(process)
        await telegram.stop()
    assert code == 0 and "encryption.key_beside_database" in stderr
