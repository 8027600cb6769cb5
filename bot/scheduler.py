"""Scheduled work, with APScheduler 3 and its job store in the bot's own database.

One scheduler per database (two would run jobs twice). Jobs are persisted, so they survive a
restart; a job that fell due while the bot was down runs once when it is back (misfires are
not dropped and are coalesced). Job functions are top-level and get plain arguments, because
jobs are pickled.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Column, Engine, MetaData, String, Table, literal, select

from storage.checkins import CHECKINS, PLANNED
from storage.database import create_db_engine
from storage.models import utcnow
from storage.retention import purge

log = logging.getLogger(__name__)

TIMEZONE = "Europe/Amsterdam"
PURGE_JOB_ID = "retention-purge"
JOBS_TABLE = "apscheduler_jobs"
CHECKIN_JOB_PREFIX = "checkin-"

# Where a check-in that falls due goes: the running engine (set at start, before the
# scheduler runs). Jobs are pickled, so the job function is a top-level function that finds
# it here rather than holding a reference.
_checkin_sink: Callable[[int], None] | None = None


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

def set_checkin_sink(sink: Callable[[int], None] | None) -> None:
    global _checkin_sink
    _checkin_sink = sink


async def checkin_due(checkin_id: int) -> None:
    """The job of one check-in: hand it to the engine, which sends it (or not) in a
    transaction of its own."""
    if _checkin_sink is None:
        log.warning("checkin.no_engine checkin=%s", checkin_id)
        return
    _checkin_sink(checkin_id)


class CheckinJobs:
    """One APScheduler date job per planned check-in, with a stable id."""

    def __init__(self, scheduler: AsyncIOScheduler) -> None:
        self.scheduler = scheduler

    def apply(self, planned: list[tuple[int, datetime]], cancelled: list[int]) -> None:
        for checkin_id, due in planned:
            self.scheduler.add_job(checkin_due, DateTrigger(run_date=due), args=[checkin_id],
                                   id=f"{CHECKIN_JOB_PREFIX}{checkin_id}",
                                   replace_existing=True, misfire_grace_time=None)
        for checkin_id in cancelled:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(f"{CHECKIN_JOB_PREFIX}{checkin_id}")

    def reconcile(self, db: Engine) -> int:
        """Schedule planned check-ins that have no job (the bot stopped between storing one
        and scheduling it, or while its job was running). One query, whatever the number."""
        jobs = Table(JOBS_TABLE, MetaData(), Column("id", String(191), primary_key=True))
        job_id = literal(CHECKIN_JOB_PREFIX) + CHECKINS.c.id.cast(String)
        query = (select(CHECKINS.c.id, CHECKINS.c.due_at)
                 .where(CHECKINS.c.status == PLANNED, ~select(jobs.c.id)
                        .where(jobs.c.id == job_id).exists()))
        with db.connect() as connection:
            missing = [(cid, due if due.tzinfo else due.replace(tzinfo=UTC))
                       for cid, due in connection.execute(query)]
        self.apply(missing, [])
        if missing:
            log.info("checkin.rescheduled count=%d", len(missing))
        return len(missing)
