"""One case across channels: a person asks for a one-time code (``koppel``) on one account and
sends it from another (``koppel 123 456``, always with the word); both then are one person,
with one conversation and their cases. ``ontkoppel`` takes the account it is typed in off
again. The codes are short, valid for ten minutes, used once, kept as keyed hashes, and limited
in number, as are wrong guesses."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from storage import links as db

log = logging.getLogger(__name__)

CODE_VALID = timedelta(minutes=10)
MAX_CODES_PER_HOUR = 3
MAX_WRONG_PER_HOUR = 5
_CODE = re.compile(r"^\s*/?(?:koppel|koppelen|link)\s+(\d{3})[\s-]?(\d{3})\s*$",
                   re.IGNORECASE)
"""Only with the word: a bare number is an answer, never a code (a number someone types at a
question must not join them to a stranger's report, however unlikely the match)."""


def code_in(text: str | None) -> str | None:
    match = _CODE.match(text or "")
    return match.group(1) + match.group(2) if match is not None else None


def spaced(code: str) -> str:
    return f"{code[:3]} {code[3:]}"


@dataclass(frozen=True)
class Linked:
    """What a code did: ``key`` is the text to say; ``owner``: the person it linked to."""

    key: str
    owner: int | None = None


def request_code(cx: Connection, person_id: int, now: datetime) -> tuple[str, str | None]:
    """A new code for the person (text key, and the code), or why not."""
    if db.codes_made_since(cx, person_id, now - db.HOUR) >= MAX_CODES_PER_HOUR:
        return "link_wait", None
    code = f"{secrets.randbelow(1_000_000):06d}"
    db.new_code(cx, person_id, code, now, CODE_VALID)
    log.info("link.code_made")
    return "link_code", code


def try_code(cx: Connection, code: str, identity_id: int, person_id: int,
             now: datetime) -> Linked:
    """Link the identity written from to the person whose code this is."""
    if db.failed_attempts_since(cx, identity_id, now - db.HOUR) >= MAX_WRONG_PER_HOUR:
        return Linked("link_too_many")
    owner = db.use_code(cx, code, now)
    if owner is None:
        db.record_failed_attempt(cx, identity_id, now)
        log.info("link.wrong_code")
        return Linked("link_wrong")
    if owner == person_id:
        return Linked("link_same")
    if person_id != identity_id:
        return Linked("link_taken")  # this account belongs to another person already
    found = db.identity(cx, owner)
    if found is None:
        return Linked("link_wrong")
    target = found[1] or owner  # a code from a linked identity links to its person
    db.link(cx, identity_id, target)
    log.info("link.linked")
    return Linked("linked", target)


def unlink(cx: Connection, identity_id: int, person_id: int) -> str:
    """Take the identity written from off the person; the text key to say."""
    others = [i for i, _, _ in db.identities_of(cx, person_id) if i != identity_id]
    if not others:
        return "not_linked"
    db.unlink(cx, identity_id, person_id)
    log.info("link.unlinked")
    return "unlinked"
