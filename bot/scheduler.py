"""Scheduled work, with APScheduler 3 and its job store in the bot's own database.

One scheduler per database (two would run jobs twice). Jobs are persisted, so they survive a
restart; a job that fell due while the bot was down runs once when it is back (misfires are
not dropped and are coalesced). Job functions are top-level and take no arguments, because
jobs are pickled into the database: what a job needs (the database URL, which may hold a
password) is set in this process at start, never stored with the job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Engine

from config.timezone import TIMEZONE_NAME
from storage.checkins import next_due
from storage.database import create_db_engine
from storage.models import utcnow
from storage.retention import purge

log = logging.getLogger(__name__)

PURGE_JOB_ID = "retention-purge"
JOBS_TABLE = "apscheduler_jobs"
CHECKIN_JOB_ID = "checkin-wakeup"

# Whom the check-in job wakes: the running engine (set at start, before the scheduler runs).
# Jobs are pickled, so the job function is a top-level function that finds it here rather than
# holding a reference.
_checkin_sink: Callable[[], None] | None = None


@dataclass(frozen=True)
class _Retention:
    database_url: str
    days: int


_retention: _Retention | None = None


def build_scheduler(db: Engine) -> AsyncIOScheduler:
    return AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=db, tablename=JOBS_TABLE)},
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        timezone=TIMEZONE_NAME,
    )


def schedule_retention(scheduler: AsyncIOScheduler, database_url: str,
                       retention_days: int) -> None:
    """Purge every night at 03:30 Amsterdam time (0 days: never). A purge that fell due while
    the bot was down runs now: the stored job keeps its next run time."""
    global _retention
    existing = scheduler.get_job(PURGE_JOB_ID)
    if retention_days <= 0:
        _retention = None
        if existing is not None:
            scheduler.remove_job(PURGE_JOB_ID)
        return
    _retention = _Retention(database_url, retention_days)
    trigger = CronTrigger(hour=3, minute=30, timezone=TIMEZONE_NAME)
    if existing is not None and not existing.args and str(existing.trigger) == str(trigger):
        return  # as it was; APScheduler runs it once now if a run was missed
    # New, or stored by an older version (with the database URL among its arguments):
    # written afresh without arguments, keeping a missed run.
    missed = existing.next_run_time if existing is not None else None
    scheduler.add_job(run_retention_purge, trigger, id=PURGE_JOB_ID, replace_existing=True,
                      **({"next_run_time": missed} if missed is not None else {}))


def run_retention_purge(*_old_arguments: object) -> None:
    """The purge job (runs in the scheduler's thread pool, in its own transaction). Jobs
    stored by older versions still pass the URL and the days; they are not used."""
    retention = _retention
    if retention is None:
        log.warning("retention.not_configured")
        return
    engine = create_db_engine(retention.database_url)
    try:
        purge(engine, utcnow() - timedelta(days=retention.days))
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
