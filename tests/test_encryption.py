"""Encryption at rest: what a person wrote is not readable in the database file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text

from storage import crypto
from storage.database import alembic_config, create_db_engine, upgrade_database
from storage.models import Base, Case, Conversation, Message
from tests.conftest import TEST_KEY
from tests.harness import Bot
from tests.intake import INCIDENT_TO_SUMMARY, incident_until

pytestmark = pytest.mark.slow  # starts the bot as a process

ROOT = Path(__file__).resolve().parent.parent
SECRET_WORDS = ["Ergenshuizen", "kinderen", "school"]


def _database_files(directory: Path) -> bytes:
    """The database with its write-ahead log, as bytes on disk."""
    return b"".join(p.read_bytes() for p in sorted(directory.glob("weerbaar.db*")))


async def test_the_raw_sqlite_file_holds_none_of_a_persons_words(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'weerbaar.db'}"
    upgrade_database(url)
    async with Bot(url) as bot:
        await bot.script([*INCIDENT_TO_SUMMARY, "ja"])
        await bot.attach("photo")
    (case,) = bot.cases()
    assert case.intake["answers"]["org_name"] == {"text": "Gemeente Ergenshuizen"}
    raw = _database_files(tmp_path)
    for word in SECRET_WORDS:
        assert word.encode() not in raw, word
    assert b"Welkom" not in raw, "the bot's replies (they echo answers) are encrypted too"


async def test_keys_can_be_rotated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'weerbaar.db'}"
    upgrade_database(url)
    async with Bot(url) as bot:
        await bot.script(incident_until("what"))
    new_key = crypto.new_key()
    try:
        crypto.configure([new_key, TEST_KEY])
        engine = create_db_engine(url)
        assert crypto.rotate(engine, list(Base.metadata.tables.values())) > 0
        crypto.configure([new_key])  # the old key is gone now
        with engine.connect() as connection:
            data = connection.execute(select(Conversation.data)).scalars().all()
        engine.dispose()
        assert any(d["answers"].get("incident.org_name") == {"text": "Gemeente Ergenshuizen"}
                   for d in data)
    finally:
        crypto.configure([TEST_KEY])


async def test_the_wrong_key_is_refused_clearly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'weerbaar.db'}"
    upgrade_database(url)
    async with Bot(url) as bot:
        await bot.say("hallo")
    try:
        crypto.configure([crypto.new_key()])
        engine = create_db_engine(url)
        with engine.connect() as connection, pytest.raises(
                crypto.EncryptionKeyError, match="cannot be decrypted"):
            connection.execute(select(Message.body)).all()
        engine.dispose()
    finally:
        crypto.configure([TEST_KEY])


def test_the_migration_encrypts_rows_stored_before_it(db_url_at_0001: str) -> None:
    engine = create_engine(db_url_at_0001)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO people (id, channel, address, language, created_at, last_seen_at) "
            "VALUES (1, 'test', 'a', 'nl', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO conversations (id, person_id, flow, state, status, language, data, "
            "created_at, updated_at) VALUES (1, 1, 'menu', 'menu', 'active', 'nl', "
            "'{\"answers\": {\"x\": {\"text\": \"Ergenshuizen\"}}}', CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO cases (id, person_id, conversation_id, kind, status, urgent, "
            "human_requested, intake, created_at, updated_at) VALUES (1, 1, 1, 'incident', "
            "'intake', false, false, '{\"answers\": {}}', CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP)"))
    engine.dispose()
    upgrade_database(db_url_at_0001)
    engine = create_db_engine(db_url_at_0001)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT data FROM conversations")).scalar_one()
        data = connection.execute(select(Conversation.data)).scalar_one()
        intake = connection.execute(select(Case.intake)).scalar_one()
    engine.dispose()
    assert "Ergenshuizen" not in str(stored)
    assert data == {"answers": {"x": {"text": "Ergenshuizen"}}}
    assert intake == {"answers": {}}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url_at_0001(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        command.downgrade(alembic_config(url), "base")
    command.upgrade(alembic_config(url), "0001")
    return url


def test_the_bot_makes_a_private_key_file_on_first_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEERBAAR_")}
    env["WEERBAAR_DATA_DIR"] = str(tmp_path)
    subprocess.run([sys.executable, "run_bot.py"], cwd=ROOT, input="hallo\n", env=env,
                   capture_output=True, text=True, timeout=60, check=True)
    key_file = tmp_path / "encryption.key"
    assert key_file.stat().st_mode & 0o077 == 0
    rotated = subprocess.run([sys.executable, "-m", "bot.admin.cli", "keys", "rotate"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                             check=False)
    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted" in rotated.stdout
