"""Checking at start that the configured keys can read this database.

A bot started with other keys than the database was written with (a typo in a variable, a
lost key file, a restored backup) would read nothing back: every turn would fail. So the
database holds one value encrypted with the current key, and a start whose keys cannot read
it is refused with a clear message. A database from before this check is tested on one of
its stored values instead, and then gets the value.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from sqlalchemy import Connection, Engine, column, insert, select, table

from storage import crypto
from storage.models import Base, KeyCheck

CHECK_VALUE = {"weerbaar": "key check"}
_MISMATCH = ("the encryption keys given cannot read this database: check "
             "WEERBAAR_ENCRYPTION_KEYS or WEERBAAR_ENCRYPTION_KEY_FILE (was the key changed, "
             "or the key file lost?)")


def verify_keys(engine: Engine) -> None:
    """Raise :class:`crypto.EncryptionKeyError` unless the configured keys read the data."""
    raw_check = table(KeyCheck.__tablename__, column("id"), column("token"))
    with engine.begin() as connection:
        token = connection.execute(select(raw_check.c.token).limit(1)).scalar()
        if token is None:
            token = _some_stored_value(connection)
            if token is not None:
                _decrypts(str(token))
            connection.execute(insert(KeyCheck).values(token=CHECK_VALUE))
            return
        _decrypts(str(token))


def _decrypts(token: str) -> None:
    try:
        crypto.cipher().decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        raise crypto.EncryptionKeyError(_MISMATCH) from None


def _some_stored_value(connection: Connection) -> str | None:
    for source, name in crypto.encrypted_columns(list(Base.metadata.tables.values())):
        if source.name == KeyCheck.__tablename__:
            continue
        raw = table(source.name, column(name))
        value = connection.execute(select(raw.c[name]).where(raw.c[name].is_not(None))
                                   .limit(1)).scalar()
        if value is not None:
            return str(value)
    return None
