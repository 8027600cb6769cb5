"""Retention: finished cases and inactive people are deleted; anonymous facts stay."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, insert, select, text, update

from bot.scheduler import (
    PURGE_JOB_ID,
    build_scheduler,
    run_retention_purge,
    schedule_retention,
)
from config.timezone import TIMEZONE_NAME
from storage.database import create_db_engine
from storage.models import AuditEntry, Case, CaseFact, Conversation, Message, Person, utcnow
from storage.retention import PurgeReport, purge
from tests.harness import Bot
from tests.intake import INCIDENT_TO_SUMMARY


async def test_a_submitted_case_leaves_anonymous_facts(db_url: str) -> None:
    async with Bot(db_url) as bot:
        await bot.script([*INCIDENT_TO_SUMMARY, "ja"])
    with bot.session() as s:
        (fact,) = s.scalars(select(CaseFact)).all()
    assert (fact.kind, fact.platform, fact.incident_type, fact.how, fact.role, fact.aangifte,
            fact.urgent) == ("incident", "test", "threat", "social_media", "raadslid", "no",
                             False)
    assert fact.month == utcnow().strftime("%Y-%m")
    assert "person_id" not in CaseFact.__table__.columns


async def test_the_purge_follows_the_retention_rules(db_url: str) -> None:
    async with Bot(db_url) as bot:
        await bot.script([*INCIDENT_TO_SUMMARY, "ja"], who="submitted")
        await bot.script(["hallo", "1", "nee", "wethouder", "opnieuw", "ja", "2"],
                         who="came-back")
        await bot.script(["hallo", "1", "nee"], who="went-quiet")
        await bot.script(["hallo", "1", "nee"], who="recent")
    long_ago = utcnow() - timedelta(days=400)
    engine = create_db_engine(db_url)
    with engine.begin() as connection:
        for who in ("submitted", "came-back", "went-quiet"):
            person = select(Person.id).where(Person.address == who).scalar_subquery()
            if who != "came-back":
                connection.execute(update(Person).where(Person.id == person)
                                   .values(last_seen_at=long_ago))
            aged = Case.person_id == person
            if who == "came-back":
                aged = aged & (Case.status == "abandoned")
            connection.execute(update(Case).where(aged).values(updated_at=long_ago))
    report = purge(engine, utcnow() - timedelta(days=365))
    engine.dispose()

    assert report.cases == 2  # came-back's abandoned case, went-quiet's unfinished intake
    assert bot.person("went-quiet") is None, "inactive with nothing open: erased"
    assert [c.status for c in bot.cases("submitted")] == ["submitted"], "waits for a person"
    assert bot.person("came-back") is not None
    assert [(c.kind, c.status) for c in bot.cases("came-back")] == [("onrust", "intake")]
    assert bot.conversation("came-back").flow == "onrust", "the new intake is kept"
    old_words = [m.body.get("text") for m in bot.messages("came-back")]
    assert "wethouder" not in old_words, "the finished intake's messages are gone"
    assert bot.cases("recent")[0].status == "intake", "recent activity is untouched"
    with bot.session() as s:
        assert s.scalar(select(func.count()).select_from(CaseFact)) == 1, "facts stay"
        assert s.scalar(select(func.count()).select_from(Message)
                        .where(Message.address == "went-quiet")) == 0
        assert s.scalar(select(func.count()).select_from(Conversation)) == 3


async def test_the_nightly_purge_is_scheduled_once_and_survives_a_restart(
        sqlite_url: str) -> None:
    db = create_db_engine(sqlite_url)
    scheduler = build_scheduler(db)
    scheduler.start()
    schedule_retention(scheduler, sqlite_url, 365)
    job = scheduler.get_job(PURGE_JOB_ID)
    assert job is not None
    assert (job.next_run_time.hour, job.next_run_time.minute) == (3, 30)
    assert str(job.next_run_time.tzinfo) == "Europe/Amsterdam"
    scheduler.shutdown()

    again = build_scheduler(db)
    again.start()
    assert again.get_job(PURGE_JOB_ID) is not None, "kept in the database"
    schedule_retention(again, sqlite_url, 365)
    assert len(again.get_jobs()) == 1, "a restart does not add a second one"
    schedule_retention(again, sqlite_url, 0)
    assert again.get_jobs() == [], "0 days: no purge"
    again.shutdown()
    db.dispose()


@pytest.mark.parametrize("status", ["asking", "assigned"])
async def test_a_case_with_an_expert_is_never_purged(sqlite_url: str, status: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script([*INCIDENT_TO_SUMMARY, "ja"], who="waiting")
    long_ago = utcnow() - timedelta(days=400)
    engine = create_db_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(update(Case).values(status=status, updated_at=long_ago))
        connection.execute(update(Person).values(last_seen_at=long_ago))
    report = purge(engine, utcnow() - timedelta(days=365))
    engine.dispose()
    assert report == PurgeReport(cases=0, people=0)
    assert [c.status for c in bot.cases("waiting")] == [status]


def test_old_audit_entries_of_deleted_cases_are_purged(db_url: str) -> None:
    engine = create_db_engine(db_url)
    now, long_ago = utcnow(), utcnow() - timedelta(days=400)
    try:
        with engine.begin() as connection:
            connection.execute(insert(AuditEntry), [
                {"at": long_ago, "actor": "expert:anna", "action": "accept", "case_id": 77},
                {"at": now, "actor": "expert:anna", "action": "close", "case_id": 78}])
        purge(engine, now - timedelta(days=365))
        with engine.connect() as connection:
            left = connection.execute(select(AuditEntry.case_id)).scalars().all()
    finally:
        engine.dispose()
    assert left == [78], "the old entry of a case that is gone is purged; a recent one stays"


async def test_the_purge_job_stores_no_database_password(postgres_url: str) -> None:
    with_password = postgres_url.replace("postgres@", "postgres:Wachtwoord-7788@", 1)
    db = create_db_engine(with_password)  # the local server trusts, so any password works
    scheduler = build_scheduler(db)
    scheduler.start()
    # A job as an older version stored it: with the URL among its arguments.
    scheduler.add_job(run_retention_purge, CronTrigger(hour=3, minute=30, timezone=TIMEZONE_NAME),
                      args=[with_password, 365], id=PURGE_JOB_ID)
    schedule_retention(scheduler, with_password, 365)
    scheduler.shutdown()
    with db.connect() as connection:
        states = connection.execute(text("SELECT job_state FROM apscheduler_jobs")).scalars()
        stored = b"".join(bytes(s) for s in states)
    db.dispose()
    assert stored and b"Wachtwoord-7788" not in stored


async def test_a_purge_missed_while_the_bot_was_down_runs_at_start(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1", "nee"], who="went-quiet")
    db = create_db_engine(sqlite_url)
    with db.begin() as connection:
        long_ago = utcnow() - timedelta(days=400)
        connection.execute(update(Person).values(last_seen_at=long_ago))
        connection.execute(update(Case).values(updated_at=long_ago))
    scheduler = build_scheduler(db)
    scheduler.start()
    schedule_retention(scheduler, sqlite_url, 365)
    # The bot was down at 03:30 last night: the run it missed is still stored.
    scheduler.modify_job(PURGE_JOB_ID, next_run_time=utcnow() - timedelta(hours=5))
    scheduler.shutdown()
    assert bot.person("went-quiet") is not None

    again = build_scheduler(db)
    again.start()
    schedule_retention(again, sqlite_url, 365)
    deadline = asyncio.get_running_loop().time() + 10
    while bot.person("went-quiet") is not None:
        assert asyncio.get_running_loop().time() < deadline, "the missed purge did not run"
        await asyncio.sleep(0.05)
    job = again.get_job(PURGE_JOB_ID)
    assert job is not None and job.next_run_time > utcnow(), "and then at 03:30 again"
    again.shutdown()
    db.dispose()
