"""Who is using the desk: a coordinator on the current roster with a live sign-in. The cookie
holds only the sign-in's number and a form token, signed; the sign-in itself is a row, so that
signing out or a roster change ends it at once. Forms carry the session's token, compared in
constant time (the cookie is also SameSite=strict)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine
from starlette.requests import Request

from config.experts import Expert, Roster
from storage import desk_logins

SESSION_KEY, FORM_KEY = "sid", "form"


def now() -> datetime:
    return datetime.now(UTC)


def open_session(request: Request, session_id: int) -> None:
    request.session.clear()
    request.session.update({SESSION_KEY: session_id, FORM_KEY: secrets.token_urlsafe(32)})


def form_token(request: Request) -> str:
    return str(request.session.get(FORM_KEY, ""))


def form_allowed(request: Request, submitted: object) -> bool:
    expected = form_token(request)
    return bool(expected) and isinstance(submitted, str) \
        and hmac.compare_digest(expected, submitted)


def signed_in(request: Request, db: Engine, roster: Callable[[], Roster]
              ) -> tuple[Expert | None, bool]:
    """(the coordinator, True) for a live sign-in of a coordinator on the roster; (None,
    True) for a sign-in whose expert is not (or no longer) a coordinator; (None, False)
    without a live sign-in."""
    session_id = request.session.get(SESSION_KEY)
    if not isinstance(session_id, int):
        return None, False
    with db.connect() as connection:
        live = desk_logins.live_session(connection, session_id, now())
    if live is None:
        request.session.clear()
        return None, False
    expert = roster().by_id(live.expert)
    if expert is None or not expert.coordinator:
        return None, True
    return expert, True
