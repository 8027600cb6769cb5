"""Scheduled work, with APScheduler 3 and its job store in the bot's own database.

One scheduler per database (two would run jobs twice). Jobs are persisted, so they survive a
restart; a job that fell due while the bot was down runs once when it is back (misfires are
not dropped and are coalesced). Job functions are top-level and get plain arguments, because
jobs are pickled.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine

from storage.database import create_db_engine
from storage.models import utcnow
from storage.retention import purge

log = logging.getLogger(__name__)

TIMEZONE = "Europe/Amsterdam"
PURGE_JOB_ID = "retention-purge"


def build_scheduler(db: Engine) -> AsyncIOScheduler:
    return AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=db, tablename="apscheduler_jobs")},
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
