"""Database engines: SQLite with WAL, foreign keys and ``BEGIN IMMEDIATE``; PostgreSQL as is."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from storage import crypto

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
_MIGRATIONS = Path(__file__).parent / "migrations"
READ_ONLY = "weerbaar_read_only"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine. For SQLite the pysqlite transaction handling is replaced by
    ``BEGIN IMMEDIATE`` (the default loses concurrent updates silently), and every
    connection gets WAL, durable commits and foreign keys."""
    # Statement parameters (encrypted tokens, chat ids) are kept out of error messages, so a
    # logged or printed error never carries them.
    kwargs.setdefault("hide_parameters", True)
    if not is_sqlite(url):
        return create_engine(url, pool_pre_ping=True, **kwargs)

    database = make_url(url).database
    if database and database != ":memory:":
        make_private(Path(database))
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows are overwritten with zeros, not just marked free (see forget_deleted).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def make_private(database: Path) -> None:
    """The database file and SQLite's -wal and -shm files beside it readable by the owner only
    (SQLite gives those two the database file's mode), in a private directory."""
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not database.exists():
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    for path in (database, database.with_name(database.name + "-wal"),
                 database.with_name(database.name + "-shm")):
        if path.exists() and path.stat().st_mode & 0o077:
            path.chmod(0o600)


def forget_deleted(engine: Engine) -> None:
    """After an erasure: on SQLite, move every change into the database file and empty the
    write-ahead log, whose older page images still hold the deleted rows (with
    ``secure_delete`` the database file itself keeps zeros where they were). PostgreSQL keeps
    deleted rows until VACUUM reuses their space, and in its WAL and backups: see SECURITY.md."""
    if not is_sqlite(str(engine.url)):
        return
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


@contextmanager
def begin_without_flush_to_disk(engine: Engine) -> Iterator[Connection]:
    """A transaction whose commit does not wait for the disk. It survives a crash of the bot
    (SIGKILL) but may be lost if the machine itself loses power. Only for writes that may be
    lost that way, such as marking replies delivered (then a reply is sent once more)."""
    with engine.connect() as connection:
        raw = connection.connection.driver_connection if is_sqlite(str(engine.url)) else None
        if raw is not None:
            raw.execute("PRAGMA synchronous=NORMAL")
        try:
            with connection.begin():
                if raw is None:
                    connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield connection
        finally:
            if raw is not None:
                raw.execute("PRAGMA synchronous=FULL")


def read_only(engine: Engine) -> Engine:
    """The same engine for reading only: on SQLite its transactions do not take the write
    lock, so they never wait for, or block, the bot's writer."""
    return engine.execution_options(**{READ_ONLY: True})


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str) -> None:
    """Bring the schema to the newest migration. The encryption keys must be configured
    first (:func:`storage.crypto.configure`): migrations may encrypt existing rows."""
    if not crypto.is_configured():
        raise crypto.EncryptionKeyError("configure the encryption keys before migrating")
    command.upgrade(alembic_config(url), "head")
