"""The queue's tasks, run by any replica's worker: a turn, a chat's deliveries, the timers
(escalations, reminders, check-ins, and giving the jobs of a dead replica to the others), the
nightly purge."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from procrastinate import App, RetryStrategy
from procrastinate.jobs import Status
from sqlalchemy import Engine as DbEngine

from bot.cluster import inbox
from bot.cluster.queue import (
    DELIVER_TASK,
    PURGE_TASK,
    SHARED_QUEUE,
    TIMERS_TASK,
    TURN_TASK,
)
from bot.engine import Engine
from storage.models import utcnow
from storage.retention import purge

log = logging.getLogger(__name__)

TIMERS_CRON = "* * * * * */2"
"""Every two seconds: escalations and reminders are due to the second, not the minute."""
PURGE_CRON = "30 2 * * *"
"""Every night at 02:30 UTC (03:30 in Amsterdam in winter), as the single process does."""
PERIODIC_TASKS = frozenset({TIMERS_TASK, PURGE_TASK})
_RETRY = RetryStrategy(max_attempts=100, wait=1, linear_wait=1)
"""A job fails only when the database does (a flow's own error is answered with an
apology): tried again, in order, as the database comes back."""


class TurnNotStored(Exception):
    """The turn could not be stored; its job is tried again."""


@dataclass(frozen=True)
class TaskSettings:
    stalled_seconds: float
    retention_days: int


def add_tasks(app: App, engine: Engine, db: DbEngine, settings: TaskSettings) -> None:
    """Register the tasks on ``app``, working with this replica's ``engine``."""

    async def turn(event: str) -> None:
        # Run again after a crash, a turn already stored is recognised by its platform id.
        result = await engine.run_turn(inbox.unsealed(event))
        if not result.stored:
            raise TurnNotStored

    async def deliver(message_id: int) -> None:
        await engine.deliver_chat(message_id)

    async def timers(timestamp: int) -> None:
        await engine.run_timers()

    async def nightly_purge(timestamp: int) -> None:
        if settings.retention_days > 0:
            await asyncio.to_thread(purge, db, utcnow() - timedelta(days=settings.retention_days))

    app.task(name=TURN_TASK, queue=SHARED_QUEUE, retry=_RETRY)(turn)
    # One task; a chat on a single-active channel has its jobs in that channel's queue.
    app.task(name=DELIVER_TASK, queue=SHARED_QUEUE, retry=_RETRY)(deliver)
    app.periodic(cron=TIMERS_CRON)(app.task(
        name=TIMERS_TASK, queue=SHARED_QUEUE, lock=TIMERS_TASK, queueing_lock=TIMERS_TASK,
    )(timers))
    app.periodic(cron=PURGE_CRON)(app.task(
        name=PURGE_TASK, queue=SHARED_QUEUE, queueing_lock=PURGE_TASK)(nightly_purge))


async def retry_stalled(app: App, stalled_seconds: float) -> int:
    """Give the jobs of replicas that stopped saying they are alive to the others (in order:
    a job keeps its lock, so the next job of that person waits for it). Every worker does
    this on its own, not as a job: a job could itself be one of the stalled ones."""
    retried = 0
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds):
        periodic = job.task_name in PERIODIC_TASKS
        try:
            if periodic:
                # The next one is queued already (and may not be queued twice): this one is
                # ended instead, which frees its lock. What it did not do, the next one does.
                await app.job_manager.finish_job(job, Status.FAILED, delete_job=True)
            else:
                await app.job_manager.retry_job(job)
        except Exception as exc:  # another replica was first
            log.info("queue.stalled_job_taken task=%s error=%s", job.task_name,
                     type(exc).__name__)
            continue
        log.warning("queue.stalled_job_%s task=%s attempts=%d",
                    "ended" if periodic else "retried", job.task_name, job.attempts)
        retried += 1
    return retried

