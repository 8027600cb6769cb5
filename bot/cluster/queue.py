"""The shared work queue: procrastinate on the bot's PostgreSQL database.

Jobs are deferred on the bot's own connection, inside the transaction that makes them (a turn
and its delivery jobs commit together, or neither does): procrastinate's ``defer`` uses a
connection of its own, so the jobs go in with its SQL function instead. What a job needs is in
the database (the event, the outbox); its arguments are only ids, never what a person wrote
or their platform id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from procrastinate import App, PsycopgConnector
from procrastinate.schema import SchemaManager
from psycopg.conninfo import make_conninfo
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from storage.crypto import fingerprints

TURN_TASK = "weerbaar.turn"
DELIVER_TASK = "weerbaar.deliver"
TIMERS_TASK = "weerbaar.timers"
PURGE_TASK = "weerbaar.purge"
SHARED_QUEUE = "weerbaar"
"""Turns, timers, and deliveries on channels any replica can send on."""
SINGLE_ACTIVE_CHANNELS = frozenset({"matrix"})
"""Channels only the lease holder sends on (one device, one key store): their deliveries
have a queue of their own (named after the channel), worked on by that replica only."""

_SCHEMA_LOCK = 0x77656572  # "weer": one replica at a time creates the queue's tables
_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, NULL, "
    "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1]))")


@dataclass(frozen=True)
class Job:
    task: str
    lock: str
    args: dict[str, Any]
    queue: str = SHARED_QUEUE


def person_lock(channel: str, address: str) -> str:
    """One person's (or expert's) events are handled one at a time, in order."""
    return f"in:{channel}:{_hashed(address)}"


def chat_lock(channel: str, address: str) -> str:
    """One chat's messages are sent one at a time, in order."""
    return f"out:{channel}:{_hashed(address)}"


def _hashed(address: str) -> str:
    """Locks are seen in the queue's tables and its log: a platform id is not (a keyed hash,
    as for the handled ids: a chat id is a number anyone could try them all for)."""
    return fingerprints(address)[0]


def delivery_queue(channel: str) -> str:
    return channel if channel in SINGLE_ACTIVE_CHANNELS else SHARED_QUEUE


def delivery_job(channel: str, address: str, message_id: int) -> Job:
    """Send the outbox of a chat, from ``message_id`` (its first message in the batch) on:
    the job finds the chat by that message, so the address is not in the job."""
    return Job(DELIVER_TASK, chat_lock(channel, address), {"message_id": message_id},
               delivery_queue(channel))


def defer(connection: Connection, job: Job) -> int:
    """Put ``job`` in the queue as part of ``connection``'s transaction; returns its id."""
    job_id: int = connection.execute(_DEFER, {
        "queue": job.queue, "task": job.task, "lock": job.lock,
        "args": json.dumps(job.args)}).scalar_one()
    return job_id


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL as psycopg's own connection string (search_path and all)."""
    url = make_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def build_app(database_url: str, **pool: Any) -> App:
    """The queue's app (its tasks are added by :mod:`bot.cluster.tasks`).

    Its own connections (taking a job, marking it done) commit without waiting for the disk,
    as the delivery reports do: a job is deferred durably, in the transaction of the turn or
    webhook call that made it, but a crash of the database server itself may forget that a
    job was taken or done, and the job runs again (a turn is then recognised by its platform
    id; a reply may be sent twice). A replica's crash loses nothing either way."""
    given = str(make_url(database_url).query.get("options", ""))
    conninfo = make_conninfo(libpq_url(database_url), options=" ".join(
        filter(None, [given, "-csynchronous_commit=off"])))
    return App(connector=PsycopgConnector(conninfo=conninfo, **pool))


def ensure_schema(db: Engine) -> bool:
    """Create procrastinate's tables and functions unless they are there; returns whether it
    did. Replicas starting at once wait for each other."""
    with db.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        if connection.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar():
            return False
        # On the driver's cursor without parameters: the script has "%" of its own, and
        # several statements, which only the simple query protocol takes.
        connection.connection.cursor().execute(SchemaManager.get_schema())
        return True


def waiting_jobs(connection: Connection) -> tuple[int, float]:
    """How many jobs wait, and how many seconds the oldest of them has waited."""
    count, age = connection.execute(text(
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(j.created)), 0) FROM ("
        " SELECT (SELECT min(at) FROM procrastinate_events e WHERE e.job_id = p.id) AS created"
        " FROM procrastinate_jobs p WHERE p.status = 'todo') j")).one()
    return int(count), float(age)
