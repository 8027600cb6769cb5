"""Encryption at rest of everything a person wrote or sent, with Fernet (AES-128-CBC and
HMAC-SHA256, from the cryptography package).

Columns of type :class:`EncryptedJSON` hold a Fernet token of their JSON value. Several keys can
be configured: the first encrypts, all of them decrypt, so keys can be rotated
(:func:`rotate`) without downtime. The keys are configured once per process, before the database
is used (:func:`configure`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Dialect, Engine, Table, Text, column, select, update
from sqlalchemy import table as table_clause
from sqlalchemy.types import TypeDecorator

_cipher: MultiFernet | None = None
_id_keys: list[bytes] = []
MIN_DISTINCT_KEY_BYTES = 16
"""A random 32-byte key has about 30 different byte values; one with fewer than 16 was not
made by a random generator (all zeros, a repeated pattern, a word typed as a key)."""
_MAKE_ONE = ('make one with: python3 -c "from cryptography.fernet import Fernet; '
             'print(Fernet.generate_key().decode())"')


class EncryptionKeyError(Exception):
    """The encryption keys are missing or cannot decrypt the data."""


def configure(keys: Sequence[str | bytes]) -> None:
    """Use these keys from now on; the first one encrypts, every one decrypts."""
    global _cipher, _id_keys
    if not keys:
        raise EncryptionKeyError("at least one encryption key is needed")
    try:
        raw = [base64.urlsafe_b64decode(key) for key in keys]
        cipher = MultiFernet([Fernet(key) for key in keys])
    except ValueError:
        raise EncryptionKeyError(f"an encryption key is not a valid Fernet key; {_MAKE_ONE}"
                                 ) from None
    if any(len(set(key)) < MIN_DISTINCT_KEY_BYTES for key in raw):
        raise EncryptionKeyError(f"an encryption key is too weak (not random); {_MAKE_ONE}")
    _cipher = cipher
    _id_keys = [hashlib.sha256(b"weerbaar platform ids\0" + key).digest() for key in raw]


def fingerprints(value: str) -> list[str]:
    """``value`` (a platform's message id, which may hold a chat id) as keyed hashes, one per
    key, the current key's first: stored instead of the id, it still recognises a message
    that comes again, but tells nobody whose it was, not even with the database in hand."""
    if not _id_keys:
        raise EncryptionKeyError("encryption keys are not configured")
    data = value.encode("utf-8", "surrogatepass")
    return ["h:" + base64.urlsafe_b64encode(
        hmac.new(key, data, hashlib.sha256).digest()[:24]).decode("ascii") for key in _id_keys]


def cipher() -> MultiFernet:
    if _cipher is None:
        raise EncryptionKeyError("encryption keys are not configured")
    return _cipher


def is_configured() -> bool:
    return _cipher is not None


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def read_key_file(path: Path, *, create: bool) -> list[str]:
    """Keys from a file, one a line, the current one first. With ``create``, a missing file
    is made with one new key, readable by the owner only."""
    if not path.exists():
        if not create:
            raise EncryptionKeyError(f"encryption key file not found: {path}")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(new_key() + "\n")
    return [line.strip() for line in path.read_text(encoding="ascii").splitlines()
            if line.strip() and not line.startswith("#")]


def resolve_keys(given: Sequence[str], key_file: Path | None, data_dir: Path) -> list[str]:
    """The keys to use: those given; else those in ``key_file``; else the default key file in
    ``data_dir``, made with a new key on first start so a fresh machine just works."""
    if given:
        return list(given)
    if key_file is not None:
        return read_key_file(key_file, create=False)
    return read_key_file(data_dir / "encryption.key", create=True)


def seal(value: Any) -> str:
    """A JSON value as a Fernet token."""
    plain = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return cipher().encrypt(plain).decode("ascii")


def unseal(token: str) -> Any:
    try:
        plain = cipher().decrypt(token.encode("ascii"))
    except InvalidToken as exc:
        raise EncryptionKeyError("stored data cannot be decrypted with the keys given") from exc
    return json.loads(plain)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value stored as a Fernet token."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else unseal(str(value))


def encrypted_columns(tables: Sequence[Table]) -> list[tuple[Table, str]]:
    return [(table, column.name) for table in tables for column in table.columns
            if isinstance(column.type, EncryptedJSON)]


def rewrite_column(engine: Engine, table: Table, name: str,
                   change: Callable[[str], str], batch: int = 500) -> int:
    """Apply ``change`` to every stored (text) value of a column, in batches, reading and
    writing the raw text without the column's type; returns how many rows were changed."""
    (key,) = table.primary_key.columns
    raw = table_clause(table.name, column(key.name), column(name))
    done, last = 0, None
    while True:
        with engine.begin() as connection:
            query = select(raw.c[key.name], raw.c[name]).order_by(raw.c[key.name]).limit(batch)
            if last is not None:
                query = query.where(raw.c[key.name] > last)
            rows = connection.execute(query).all()
            for row_key, value in rows:
                if value is not None:
                    connection.execute(update(raw).where(raw.c[key.name] == row_key)
                                       .values({name: change(str(value))}))
                    done += 1
        if len(rows) < batch:
            return done
        last = rows[-1][0]


def rotate(engine: Engine, tables: Sequence[Table]) -> int:
    """Re-encrypt every encrypted value with the current (first) key; returns how many."""
    return sum(
        rewrite_column(engine, table, name,
                       lambda token: cipher().rotate(token.encode("ascii")).decode("ascii"))
        for table, name in encrypted_columns(tables))
