"""Fixtures: a temporary SQLite file, a fresh schema on the local PostgreSQL, the test Synapse,
and a local Telegram Bot API server."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from bot.adapters.telegram import TelegramChannel
from bot.engine import Engine
from bot.metrics import Metrics
from storage import crypto
from storage.database import upgrade_database
from tests.harness import FLOWS, Bot, make_logic
from tests.synapse import Synapse, start_synapse
from tests.telegram_api import FakeTelegram

TEST_KEY = crypto.new_key()
crypto.configure([TEST_KEY])

SERVER_FIXTURES = frozenset({"synapse", "postgres_url", "telegram"})
"""Fixtures that start or need a real server: a test using one (directly or through another
fixture) is marked ``server``; the Matrix ones are also ``slow``."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        needs = set(getattr(item, "fixturenames", ()))
        if needs & SERVER_FIXTURES or "[postgresql" in item.nodeid:
            item.add_marker(pytest.mark.server)
        if "synapse" in needs:
            item.add_marker(pytest.mark.slow)


POSTGRES_URL = os.environ.get(
    "WEERBAAR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'weerbaar.db'}"
    upgrade_database(url)
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A schema of its own on the local PostgreSQL server, dropped afterwards.

    PostgreSQL must be running (`.ci/run` starts it): a missing server fails the tests.
    """
    schema = f"weerbaar_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        upgrade_database(url)
        yield url
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    """A real Synapse homeserver on loopback, started once for the whole run."""
    server = start_synapse(tmp_path_factory.mktemp("synapse"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Both databases: tests using this run once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@dataclass
class Running:
    telegram: FakeTelegram
    channel: TelegramChannel
    bot: Bot
    metrics: Metrics


@pytest.fixture
async def running(sqlite_url: str) -> AsyncIterator[Running]:
    """The real Telegram adapter and engine on SQLite, polling a local Bot API server."""
    telegram = FakeTelegram()
    await telegram.start()
    menus = {str(lang): [(c.command, c.description) for c in commands]
             for lang, commands in FLOWS.system.command_menu.items()}
    metrics = Metrics()
    channel = TelegramChannel(telegram.token, base_url=telegram.base_url, poll_timeout=1,
                              menus=menus,
                              on_unreadable=metrics.unreadable_updates.labels("telegram").inc)
    bot = Bot(sqlite_url)
    bot.engine = Engine(bot.db, make_logic(), max_backoff_seconds=0.2, metrics=metrics)
    await bot.engine.start({"telegram": channel})
    await channel.start(bot.engine.handle)
    telegram.settle = bot.engine.drain
    try:
        yield Running(telegram, channel, bot, metrics)
    finally:
        await channel.stop()
        await bot.engine.stop()
        await telegram.stop()


