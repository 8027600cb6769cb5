"""Check-in plans in seconds, and a bot that runs them with a real APScheduler."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.checkins import CheckinDesk, CheckinSettings
from bot.routing import Router
from config.sending_hours import DAYS, SendingHours
from config.settings import CheckinStep
from storage.database import create_db_engine
from storage.models import Checkin
from tests.harness import Bot, make_logic

ALL_HOURS = SendingHours.parse("00:00-24:00", DAYS)
CHECKIN_HELLO = "Ik wil graag even horen hoe het nu met u gaat"


def checkin_desk(*after: str, lasting: bool = False, hours: SendingHours = ALL_HOURS,
                 grace: float = 3600.0) -> CheckinDesk:
    """Check-ins for incidents ``after`` the intake (e.g. "1s", "1h"), any hour."""
    plan = [CheckinStep(after=a, lasting=lasting) for a in after]
    return CheckinDesk(CheckinSettings(plans={"incident": plan}, hours=hours,
                                       grace=timedelta(seconds=grace)), make_logic())


def checkin_bot(url: str, desk: CheckinDesk, router: Router | None = None,
                rate: float = 10.0) -> Bot:
    return Bot(url, router=router, channel_name="console", checkins=desk, checkin_rate=rate)


def time_passes(url: str, seconds: float) -> None:
    """While the bot is down, ``seconds`` go by for its planned check-ins: their moments move
    that much into the past (the same as waiting, without the wait)."""
    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            rows = connection.execute(select(Checkin.id, Checkin.due_at).where(
                Checkin.status == "planned")).all()
            for checkin_id, due in rows:
                connection.execute(update(Checkin).where(Checkin.id == checkin_id).values(
                    due_at=due - timedelta(seconds=seconds)))
    finally:
        engine.dispose()
