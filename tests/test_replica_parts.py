"""Pieces of running as replicas, on the local PostgreSQL: what a batch adds to its
transaction, the sealed event a turn job carries, the lease."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.cluster.hooks import ReplicaHooks
from bot.cluster.inbox import sealed, unsealed
from bot.cluster.lease import Lease
from bot.cluster.queue import (
    SHARED_QUEUE,
    TIMERS_TASK,
    TURN_TASK,
    Job,
    build_app,
    defer,
    ensure_schema,
)
from bot.cluster.tasks import retry_stalled
from bot.delivery_report import DeliveryReport
from bot.events import Attachment, InboundEvent, Location
from bot.routing import Router, RoutingSettings
from bot.turns import TurnRunner
from config.experts import Roster
from config.timezone import TIMEZONE
from storage.database import create_db_engine
from storage.models import Message
from tests.harness import FACTS, FLOWS, make_logic
from tests.routing_support import roster_data


def test_a_changed_rota_is_told_once_however_many_replicas_took_it(postgres_url: str) -> None:
    db = create_db_engine(postgres_url)
    ensure_schema(db)
    now = datetime.now(TIMEZONE).replace(minute=0, second=0, microsecond=0)
    changed = roster_data()
    start, end = now + timedelta(days=2), now + timedelta(days=2, hours=8)
    changed["on_call"]["overrides"] = [{
        "specialty": "rechtshulp", "start": start.replace(tzinfo=None).isoformat(),
        "end": end.replace(tzinfo=None).isoformat(), "experts": ["bert"]}]
    replicas = [TurnRunner(db, make_logic(), "nl", Router(
        Roster.model_validate(roster_data()), FLOWS, FACTS, RoutingSettings()),
        hooks=ReplicaHooks()) for _ in range(3)]
    for runner in replicas:  # each replica reads the changed experts file
        runner.use_roster(Roster.model_validate(changed))
    for runner in replicas:  # and runs the timers, one after the other
        runner.run_batch([], DeliveryReport(), timers=True)
    with Session(db) as session:
        to_anna = [m.body["text"] for m in session.scalars(
            select(Message).where(Message.address == "anna"))]
        jobs = session.execute(text(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'weerbaar.deliver'"
        )).scalar()
    db.dispose()
    assert sum("Uw diensten zijn gewijzigd" in t for t in to_anna) == 1
    assert jobs == 1, "its delivery is a job, deferred with it"


def test_a_turn_job_carries_the_event_sealed() -> None:
    event = InboundEvent("telegram", "501", "77", text="Er staat iemand voor mijn deur",
                         attachment=Attachment("photo", "file-1", mime_type="image/jpeg"),
                         location=Location(52.1, 5.1), language_hint="nl")
    token = sealed(event)
    assert "deur" not in token and "501" not in token
    assert unsealed(token) == event


async def test_the_lease_is_held_by_one_and_taken_over_when_its_holder_goes(
        postgres_url: str) -> None:
    first, second = Lease(postgres_url, "matrix", check_seconds=0.1), \
        Lease(postgres_url, "matrix", check_seconds=0.1)
    await first.acquire()
    waiting = asyncio.create_task(second.acquire())
    await asyncio.sleep(0.5)
    assert not waiting.done(), "one holder at a time"
    await first.release()  # as when its process dies: its connection closes
    await asyncio.wait_for(waiting, timeout=5)
    assert second.held
    await second.release()


async def test_a_dead_replicas_timers_job_gives_way_to_the_next_and_its_turn_is_retried(
        postgres_url: str) -> None:
    """A replica died while it ran the timers and a turn: the turn goes to another worker in
    order, and the timers job, whose successor is queued already, is ended so the timers'
    lock is free (retried, it would collide with its successor and hold the lock for good)."""
    db = create_db_engine(postgres_url)
    ensure_schema(db)
    with db.begin() as connection:
        defer(connection, Job(TURN_TASK, "in:telegram:h1", {"event": "sealed"}))
    db.dispose()
    app = build_app(postgres_url)
    app.task(name=TIMERS_TASK, queue=SHARED_QUEUE, lock=TIMERS_TASK,
             queueing_lock=TIMERS_TASK)(_noop)
    async with app.open_async():
        manager = app.job_manager
        dead = await manager.register_worker()
        await app.configure_task(TIMERS_TASK).defer_async(timestamp=1)
        taken = [await manager.fetch_job(queues=None, worker_id=dead) for _ in range(2)]
        assert {job.task_name for job in taken if job} == {TIMERS_TASK, TURN_TASK}
        await app.configure_task(TIMERS_TASK).defer_async(timestamp=2)  # the next tick
        await asyncio.sleep(1.2)  # the dead replica says nothing more
        assert await retry_stalled(app, stalled_seconds=1) == 2
        alive = await manager.register_worker()
        again = [await manager.fetch_job(queues=None, worker_id=alive) for _ in range(3)]
    fetched = sorted((job.task_name, job.task_kwargs) for job in again if job is not None)
    assert fetched == [(TIMERS_TASK, {"timestamp": 2}), (TURN_TASK, {"event": "sealed"})]


async def _noop(timestamp: int) -> None:
    return None
