"""Check-ins (nazorg) end to end on the engine, with a real APScheduler and both databases:
they arrive, are never sent twice, survive a restart, and the answers lead somewhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bench.checkins import fill
from bot.channel import PermanentDeliveryError
from bot.write_buffer import TurnContext, TurnResult, WriteBuffer
from config.sending_hours import DAYS, SendingHours
from storage.checkins import load
from storage.database import create_db_engine
from storage.models import Case, Checkin, Message
from tests.checkin_support import CHECKIN_HELLO, checkin_bot, checkin_desk, time_passes
from tests.harness import Bot, to, transient, wait_for
from tests.intake import INCIDENT_SUBMITTED
from tests.routing_support import make_router


def checkins(bot: Bot) -> list[tuple[str, bool]]:
    with bot.session() as s:
        return [(c.status, c.lasting) for c in s.scalars(select(Checkin).order_by(Checkin.id))]


async def test_a_checkin_arrives_and_is_marked_sent(db_url: str) -> None:
    async with checkin_bot(db_url, checkin_desk("1s", "1h")) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        assert checkins(bot) == [("planned", False), ("planned", False)]
        assert CHECKIN_HELLO not in to(bot, "alice")
        await wait_for(lambda: CHECKIN_HELLO in to(bot, "alice"), within=10)
        await bot.engine.drain()
        assert "Kies een cijfer van 1 (slecht) tot 5 (goed)" in to(bot, "alice")
        assert checkins(bot) == [("sent", False), ("planned", False)]
        assert bot.conversation().flow == "checkin"
        # The person answers; the check-in conversation goes on to the family question.
        replies = await bot.say("4")
        assert "hoe gaat het met uw partner, kinderen" in replies[-1].text


async def test_a_poor_answer_offers_contact_and_reopens_the_case_for_aftercare(
        db_url: str) -> None:
    async with checkin_bot(db_url, checkin_desk("1s"), router=make_router()) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        await bot.say("aannemen 1", who="anna")
        await bot.say("sluit 1 advies", who="anna")
        (case,) = bot.cases()
        assert case.status == "closed"
        await wait_for(lambda: CHECKIN_HELLO in to(bot, "alice"), within=10)
        await bot.engine.drain()
        replies = await bot.say("1")
        assert "Dat spijt me" in replies[0].text
        await bot.say("slecht")  # the family
        asked = await bot.say("ja")  # contact, please
        assert "Ik vraag iemand van het team voor nazorg" in "\n".join(r.text for r in asked)
        (case,) = bot.cases()
        assert case.status == "asking" and case.outcome is None
        # Bert is the nazorg expert on call: he is asked, and Anna's closed case stays hers.
        assert "Nieuwe zaak #1" in to(bot, "bert") and "nazorg" in to(bot, "bert")
        await bot.say("aannemen 1", who="bert")
        (case,) = bot.cases()
        assert case.status == "assigned" and case.assigned_expert == "bert"


async def test_stop_cancels_every_future_checkin(db_url: str) -> None:
    async with checkin_bot(db_url, checkin_desk("1s", "1h", "2h")) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        await wait_for(lambda: CHECKIN_HELLO in to(bot, "alice"), within=10)
        await bot.engine.drain()
        replies = await bot.say("stop")
        assert "geen berichten meer om te vragen hoe het met u gaat" in replies[-1].text
        assert checkins(bot) == [("sent", False), ("cancelled", False), ("cancelled", False)]


async def test_no_at_may_we_ask_again_cancels_the_rest(db_url: str) -> None:
    async with checkin_bot(db_url, checkin_desk("1s", "1h")) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        await wait_for(lambda: CHECKIN_HELLO in to(bot, "alice"), within=10)
        await bot.engine.drain()
        await bot.script(["4", "goed", "nee"])
        replies = await bot.say("nee")  # may we ask again later? no
        assert "geen berichten meer" in replies[0].text
        assert checkins(bot) == [("sent", False), ("cancelled", False)]


async def test_words_of_crisis_in_a_checkin_get_112_and_113(db_url: str) -> None:
    async with checkin_bot(db_url, checkin_desk("1s")) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        await wait_for(lambda: CHECKIN_HELLO in to(bot, "alice"), within=10)
        await bot.engine.drain()
        replies = await bot.say("Ik wil niet meer leven")
        text = "\n".join(r.text for r in replies)
        assert "113" in text and "0800-0113" in text and "112" in text


async def test_a_checkin_due_while_the_bot_was_down_is_sent_once_after_restart(
        db_url: str) -> None:
    desk = checkin_desk("1h")
    async with checkin_bot(db_url, desk) as bot:
        await bot.script(INCIDENT_SUBMITTED)
    time_passes(db_url, 3601)  # the bot is down when the check-in falls due
    async with checkin_bot(db_url, desk) as again:
        await wait_for(lambda: CHECKIN_HELLO in to(again, "alice"), within=10)
        await again.engine.drain()
        assert checkins(again) == [("sent", False)]
    async with checkin_bot(db_url, desk) as third:
        await third.engine.settle()
        assert CHECKIN_HELLO not in to(third, "alice"), "never twice"
        assert checkins(third) == [("sent", False)]  # nothing left that could be sent


async def test_a_checkin_later_than_the_grace_is_skipped(db_url: str) -> None:
    desk = checkin_desk("1h", grace=600)
    async with checkin_bot(db_url, desk) as bot:
        await bot.script(INCIDENT_SUBMITTED)
    time_passes(db_url, 3600 + 900)  # down for longer than the grace
    async with checkin_bot(db_url, desk) as again:
        await wait_for(lambda: checkins(again) == [("skipped", False)], within=10)
        assert CHECKIN_HELLO not in to(again, "alice")


async def test_a_planned_checkin_without_its_job_is_scheduled_again(db_url: str) -> None:
    """The bot died after storing a check-in but before the wake-up job was written: at start
    the next check-in in the table sets the wake-up again."""
    desk = checkin_desk("2s")
    async with checkin_bot(db_url, desk) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        assert bot.scheduler is not None
        bot.scheduler.remove_all_jobs()
    async with checkin_bot(db_url, desk) as again:
        await wait_for(lambda: CHECKIN_HELLO in to(again, "alice"), within=10)


async def test_the_expert_adds_and_cancels_checkins_from_the_relay(db_url: str) -> None:
    async with checkin_bot(db_url, checkin_desk("1d"), router=make_router()) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        await bot.say("aannemen 1", who="anna")
        added = await bot.say("nazorg 1 1s", who="anna")
        assert "#1" in added[-1].text
        assert checkins(bot) == [("planned", False), ("planned", False)]
        cancelled = await bot.say("nazorg 1 stop", who="anna")
        assert "#1" in cancelled[-1].text
        assert checkins(bot) == [("cancelled", False), ("cancelled", False)]
        # Not her case: Bert is refused.
        refused = await bot.say("nazorg 1 3d", who="bert")
        assert "niet aan u gevraagd" in refused[-1].text
        assert checkins(bot) == [("cancelled", False), ("cancelled", False)]


async def test_erasure_cancels_the_checkins_and_removes_them(db_url: str) -> None:
    async with checkin_bot(db_url, checkin_desk("1h", "2h")) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        await bot.say("verwijder")
        await bot.say("ja")
        assert checkins(bot) == []
        with bot.session() as s:
            assert s.scalars(select(Case)).all() == []


async def test_a_crowd_of_due_checkins_goes_out_within_the_rate_limit(db_url: str) -> None:
    fill(db_url, 15, datetime.now(UTC) - timedelta(minutes=1))  # 15 people, all due
    async with checkin_bot(db_url, checkin_desk(), rate=5.0) as bot:
        await wait_for(lambda: checkins(bot).count(("sent", False)) == 15, within=30)
        # marked sent when queued; delivered a moment later, at the rate limit
        await wait_for(lambda: sum(CHECKIN_HELLO in m.text for m in bot.channel.sent) == 15,
                       within=30)
        await bot.engine.drain()
        hellos = [m for m in bot.channel.sent if CHECKIN_HELLO in m.text]
        assert sorted(m.recipient for m in hellos) == sorted(f"bench-{i}" for i in range(15))
        assert bot.channel.sent_at[-1] - bot.channel.sent_at[0] >= 1.5, "5 a second, not more"


def test_a_checkin_planned_at_night_is_stored_for_nine_in_the_morning(db_url: str) -> None:
    fill(db_url, 1, datetime.now(UTC) + timedelta(days=30))
    desk = checkin_desk(hours=SendingHours.parse("09:00-20:00", DAYS))
    night = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)  # 23:30 in Amsterdam
    db = create_db_engine(db_url)
    try:
        with db.begin() as cx:
            turn = TurnContext(cx, WriteBuffer(now=night - timedelta(hours=1)), TurnResult())
            desk.add(turn, case_id=1, person_id=1, lasting=True, due=night)
        with db.connect() as cx:
            (row,) = [r for r in load(cx, [1, 2]) if r.lasting]
    finally:
        db.dispose()
    assert row.due_at == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 09:00 CET


async def test_a_checkin_the_channel_fails_to_deliver_is_retried(db_url: str) -> None:
    fill(db_url, 1, datetime.now(UTC) - timedelta(minutes=1))
    bot = checkin_bot(db_url, checkin_desk())
    bot.channel.failures = [transient(), transient()]  # the channel is down, twice
    async with bot:
        await wait_for(lambda: CHECKIN_HELLO in to(bot, "bench-0"), within=15)

        def hello() -> Message:
            return next(m for m in bot.messages("bench-0") if m.direction == "out")

        await wait_for(lambda: hello().delivered_at is not None, within=15)
        assert hello().attempts == 2  # two failed tries
        assert checkins(bot) == [("sent", False)]


async def test_a_checkin_to_someone_who_blocked_the_bot_is_recorded(db_url: str) -> None:
    fill(db_url, 1, datetime.now(UTC) - timedelta(minutes=1))
    bot = checkin_bot(db_url, checkin_desk())
    bot.channel.failures = [PermanentDeliveryError("blocked")] * 2
    async with bot:
        def sent() -> list[Message]:
            return [m for m in bot.messages("bench-0") if m.direction == "out"]

        await wait_for(lambda: sent() and all(m.failed_at is not None for m in sent()),
                       within=15)
        hello = sent()[0]
        assert hello.last_error == "blocked" and hello.delivered_at is None
