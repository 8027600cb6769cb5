"""Storage on SQLite and PostgreSQL: schema, durability settings, atomic turns, erasure."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, inspect, select, text

from bot.events import InboundEvent
from storage.database import create_db_engine, is_sqlite
from storage.models import Case, Conversation, Message, Person, ProcessedInbound
from tests.harness import Bot, RecordingChannel, texts
from tests.intake import INCIDENT_TO_SUMMARY

TABLES = {"people", "conversations", "cases", "messages", "processed_inbound", "alembic_version",
          "case_facts", "handoffs", "case_notes", "expert_sessions", "audit_log", "checkins",
          "key_check", "case_consults"}


def test_migrations_create_every_table(db_url: str) -> None:
    engine = create_db_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_the_migrations_build_exactly_the_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.models import Base

    engine = create_db_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            differences = [d for d in compare_metadata(context, Base.metadata)
                           if not (isinstance(d, tuple) and d[0] == "remove_table"
                                   and d[1].name == "apscheduler_jobs")]
    finally:
        engine.dispose()
    assert differences == []


def test_sqlite_connections_use_wal_full_sync_and_foreign_keys(sqlite_url: str) -> None:
    engine = create_db_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


async def test_delivery_marks_leave_the_connections_durable(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1"])
        await bot.engine.settle()  # the marks-only transaction has run
        assert all(m.delivered_at is not None for m in bot.messages() if m.direction == "out")
        with bot.db.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


async def test_a_whole_intake_is_stored_as_a_submitted_case(db_url: str) -> None:
    async with Bot(db_url) as bot:
        await bot.script(INCIDENT_TO_SUMMARY)
        replies = await bot.say("ja, het klopt")
        assert "Uw melding is doorgegeven" in texts(replies)
    (case,) = bot.cases()
    assert case.kind == "incident"
    assert case.status == "submitted"
    assert case.urgent is False
    answers = case.intake["answers"]
    assert answers["role"] == {"option": "raadslid"}
    assert answers["org_name"] == {"text": "Gemeente Ergenshuizen"}
    assert answers["description"]["text"].startswith("Hij schreef")
    assert answers["help_wanted"] == {"options": ["legal", "aftercare"]}
    assert answers["contact"] == {"option": "chat"}


async def test_every_message_in_and_out_is_recorded_and_delivered(db_url: str) -> None:
    async with Bot(db_url) as bot:
        await bot.script(["hallo", "1"])
    rows = bot.messages()
    assert [m.direction for m in rows if m.direction == "in"] == ["in", "in"]
    assert [m.body["text"] for m in rows if m.direction == "in"] == ["hallo", "1"]
    outbound = [m for m in rows if m.direction == "out"]
    assert outbound, "replies are recorded"
    assert all(m.delivered_at is not None for m in outbound)
    assert [m.id for m in outbound] == [m.id for m in bot.channel.sent]


async def test_a_repeated_platform_message_id_is_ignored(db_url: str) -> None:
    async with Bot(db_url) as bot:
        first = await bot.say("hallo", message_id="m-1")
        again = await bot.say("hallo", message_id="m-1")
        assert first and again == []
    with bot.session() as s:
        assert s.scalar(select(func.count()).select_from(ProcessedInbound)) == 1
        assert s.scalar(select(func.count()).select_from(Message)
                        .where(Message.direction == "in")) == 1


async def test_concurrent_messages_of_one_person_are_handled_in_order(db_url: str) -> None:
    async with Bot(db_url) as bot:
        await bot.say("hallo")
        lines = ["1", "nee", "wethouder", "provincie", "Provincie Zuid", "intimidatie"]
        events = [InboundEvent("test", "alice", f"c-{i}", text=line)
                  for i, line in enumerate(lines)]
        await asyncio.gather(*(bot.engine.handle(e) for e in events))
    conversation = bot.conversation()
    assert conversation.state == "description"
    answers = conversation.data["answers"]
    assert answers["incident.role"] == {"option": "wethouder"}
    assert answers["incident.org_name"] == {"text": "Provincie Zuid"}
    assert answers["incident.what"] == {"option": "intimidation"}


async def test_many_people_at_once_each_keep_their_own_conversation(db_url: str) -> None:
    async with Bot(db_url) as bot:
        people = [f"p{i}" for i in range(30)]
        await asyncio.gather(*(bot.script(["hallo", "1", "nee", "burgemeester"], who=p)
                               for p in people))
    with bot.session() as s:
        states = s.execute(select(Person.address, Conversation.state)
                           .join(Conversation, Conversation.person_id == Person.id)).all()
    assert sorted(states) == sorted((p, "org_type") for p in people)


async def test_erasure_leaves_nothing_that_refers_to_the_person(db_url: str) -> None:
    async with Bot(db_url) as bot:
        await bot.script(["hallo", "1", "ja", "wethouder"])
        await bot.attach("photo")
        await bot.script(["hallo", "1"], who="bob")
        alice = bot.person("alice")
        assert alice is not None and bot.cases("alice")
        await bot.say("verwijder")
        replies = await bot.say("ja")
        assert "Al uw gegevens zijn verwijderd" in texts(replies)
    with bot.session() as s:
        assert s.get(Person, alice.id) is None
        for column in (Conversation.person_id, Case.person_id, Message.person_id,
                       ProcessedInbound.person_id):
            count = s.scalar(select(func.count()).where(column == alice.id))
            assert count == 0, column
        assert s.scalar(select(func.count()).select_from(Message)
                        .where(Message.address == "alice")) == 0
    assert bot.person("bob") is not None, "other people are untouched"


async def test_a_reply_committed_but_not_sent_is_sent_after_restart(db_url: str) -> None:
    blocked = RecordingChannel()
    blocked.block = asyncio.Event()
    bot = Bot(db_url, channel=blocked)
    await bot.engine.start({"test": blocked})
    turn = asyncio.create_task(bot.say("hallo", message_id="m-1"))
    await asyncio.sleep(0.3)  # committed, stuck in sending: the process "dies" here
    turn.cancel()
    await bot.engine.stop()
    bot.db.dispose()
    assert blocked.sent == []

    async with Bot(db_url) as again:
        await asyncio.sleep(0.2)
        resent = again.channel.to("alice")
        assert "Welkom" in texts(resent)
        redelivered = await again.say("hallo", message_id="m-1")
        assert redelivered == [], "the redelivered message is ignored"
        assert len(again.channel.to("alice")) == len(resent), "nothing is sent twice"
    with again.session() as s:
        assert s.scalar(select(func.count()).select_from(Message).where(
            Message.direction == "out", Message.delivered_at.is_(None))) == 0


async def test_a_failing_turn_keeps_the_message_and_still_answers(db_url: str) -> None:
    from tests.harness import make_logic

    logic = make_logic()
    original = logic.turn

    def explode_on_boom(snapshot, event):  # type: ignore[no-untyped-def]
        if event.text == "boom":
            raise RuntimeError("a bug in a flow")
        return original(snapshot, event)

    logic.turn = explode_on_boom  # type: ignore[method-assign]
    async with Bot(db_url, logic=logic) as bot:
        await bot.say("hallo")
        results = await asyncio.gather(bot.say("boom"), bot.say("hallo", who="bob"))
        assert "er ging bij mij iets mis" in texts(results[0])
        assert "Welkom" in texts(results[1]), "the other turn in the batch is not undone"
    assert [m.body.get("text") for m in bot.messages() if m.direction == "in"] == ["hallo", "boom"]


def test_the_same_schema_on_both_databases(db_url: str) -> None:
    from alembic.script import ScriptDirectory

    from storage.database import alembic_config

    engine = create_db_engine(db_url)
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version == ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
        assert version is not None and int(version) >= 8
        assert is_sqlite(db_url) == db_url.startswith("sqlite")
    finally:
        engine.dispose()
