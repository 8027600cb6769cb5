"""An expert's own shifts and the web desk from the chat: ``agenda`` lists their shifts of the
coming week with the address of their calendar feed; ``inloggen`` gives a coordinator a
one-time link that signs them in to the desk."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from bot.expert_base import ExpertBase
from config.experts import COORDINATOR
from config.rota_text import stretch
from config.shifts import shifts_of
from storage import desk_logins

log = logging.getLogger(__name__)

LINK_VALID = timedelta(minutes=10)
WEEK = timedelta(days=7)


class RotaWork(ExpertBase):
    def calendar(self) -> None:
        now = self.turn.now
        lines = []
        for span in shifts_of(self.router.roster, self.expert.id, now, now + WEEK):
            what = (self.texts.t("expert_shift_coordinator", self.language)
                    if span.specialty == COORDINATOR
                    else self.texts.specialty(span.specialty, self.language))
            lines.append(f"• {stretch(span.start, span.end, self.language)}: {what}")
        desk = self.router.settings.desk
        self.say("expert_calendar" if lines else "expert_calendar_empty",
                 dates="\n".join(lines))
        if desk is not None:
            self.say("expert_calendar_feed", link=desk.calendar(self.expert.id))

    def desk_login(self) -> None:
        """A one-time link to the web desk, for coordinators, valid for minutes."""
        desk = self.router.settings.desk
        if not self.expert.coordinator:
            self.audit("denied", None, "desk")
            self.say("expert_desk_coordinators_only")
            return
        if desk is None:
            self.say("expert_desk_off")
            return
        token = secrets.token_urlsafe(32)
        desk_logins.new_link(self.db, self.expert.id, token, self.turn.now, LINK_VALID)
        self.audit("desk_link", None)
        log.info("desk.link expert=%s", self.expert.id)
        self.say("expert_desk_link", link=desk.login(token),
                 minutes=int(LINK_VALID.total_seconds() // 60))
