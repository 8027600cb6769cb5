"""The addresses the chat gives out for the web desk: a coordinator's one-time sign-in link,
and an expert's calendar feed behind a secret token (a keyed hash of their id, so no token is
stored; changing ``WEERBAAR_DESK_SECRET`` withdraws every feed address at once)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class DeskLinks:
    url: str
    """The desk's address as coordinators reach it, e.g. https://desk.example.nl."""
    secret: str

    def login(self, token: str) -> str:
        return f"{self.url.rstrip('/')}/login/{token}"

    def calendar_token(self, expert_id: str) -> str:
        digest = hmac.new(self.secret.encode(), f"calendar:{expert_id}".encode(),
                          hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode("ascii")

    def calendar(self, expert_id: str) -> str:
        return f"{self.url.rstrip('/')}/agenda/{expert_id}/{self.calendar_token(expert_id)}.ics"

    def calendar_allows(self, expert_id: str, token: str) -> bool:
        return hmac.compare_digest(self.calendar_token(expert_id), token)
