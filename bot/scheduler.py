"""Scheduled work, with APScheduler 3 and its job store in the bot's own database.

One scheduler per database (two would run jobs twice). Jobs are persisted, so they survive a
restart; a job that fell due while the bot was down runs once when it is back (misfires are
not dropped and are coalesced). Job functions are top-level and get plain arguments, because
jobs are pickled.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Engine

from storage.checkins import next_due
from storage.database import create_db_engine
from storage.models import utcnow
from storage.retention import purge

log = logging.getLogger(__name__)

TIMEZONE = "Europe/Amsterdam"
PURGE_JOB_ID = "retention-purge"
JOBS_TABLE = "apscheduler_jobs"
CHECKIN_JOB_ID = "checkin-wakeup"

# Whom the check-in job wakes: the running engine (set at start, before the scheduler runs).
# Jobs are pickled, so the job function is a top-level function that finds it here rather than
# holding a reference.
_checkin_sink: Callable[[], None] | None = None


def build_scheduler(db: Engine) -> AsyncIOScheduler:
    return AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=db, tablename=JOBS_TABLE)},
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        timezone=TIMEZONE,
    )


def schedule_retention(scheduler: AsyncIOScheduler, database_url: str,
                       retention_days: int) -> None:
    """Purge every night at 03:30 Amsterdam time (0 days: never)."""
    if retention_days <= 0:
        if scheduler.get_job(PURGE_JOB_ID) is not None:
            scheduler.remove_job(PURGE_JOB_ID)
        return
    scheduler.add_job(run_retention_purge, CronTrigger(hour=3, minute=30, timezone=TIMEZONE),
                      args=[database_url, retention_days], id=PURGE_JOB_ID,
                      replace_existing=True)


def run_retention_purge(database_url: str, retention_days: int) -> None:
    """The purge job (runs in the scheduler's thread pool, in its own transaction)."""
    engine = create_db_engine(database_url)
    try:
        purge(engine, utcnow() - timedelta(days=retention_days))
    finally:
        engine.dispose()


# -- check-ins -------------------------------------------------------------------------------

def set_checkin_sink(sink: Callable[[], None] | None) -> None:
    global _checkin_sink
    _checkin_sink = sink


async def checkins_due() -> None:
    """The wake-up job: tell the engine that check-ins are due. It reads which ones from the
    checkins table and sends them in transactions of its own."""
    if _checkin_sink is None:
        log.warning("checkin.no_engine")
        return
    _checkin_sink()


class CheckinTimer:
    """One persistent APScheduler job that wakes the engine when the next check-in falls due.

    The checkins table is the list of what to send; the job only says when to look. So start-up
    costs the same with 100,000 pending check-ins as with none, and a crowd of check-ins due at
    the same moment (09:00 after the quiet hours, or after the bot was down) is read from the
    table a page at a time instead of being loaded as 100,000 jobs.
    """

    def __init__(self, scheduler: AsyncIOScheduler) -> None:
        self.scheduler = scheduler
        self._lock = threading.Lock()

    def wake_at(self, when: datetime) -> None:
        """Make sure the engine is woken at ``when`` at the latest."""
        with self._lock:
            job = self.scheduler.get_job(CHECKIN_JOB_ID)
            if job is not None and job.next_run_time is not None and job.next_run_time <= when:
                return
            self.scheduler.add_job(checkins_due, DateTrigger(run_date=when), id=CHECKIN_JOB_ID,
                                   replace_existing=True, misfire_grace_time=None)

    def reconcile(self, db: Engine) -> datetime | None:
        """At start: wake at the next planned check-in (at once if it is overdue), whatever
        happened to the job before."""
        with db.connect() as connection:
            due = next_due(connection)
        if due is not None:
            self.wake_at(due)
        return due
