"""One case across accounts (issue 19.2), on the engine and database: a one-time code asked
for on one account and sent from another joins them into one person with one conversation;
codes are single use, expire, and are limited; unlinking and erasure. (Telegram and Matrix
together: tests/test_linking_channels.py.)"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from storage.models import Case, LinkCode, Person, utcnow
from tests.harness import Bot, texts
from tests.intake import INCIDENT_SUBMITTED
from tests.routing_support import make_router, routed_bot


def code_from(replies: str) -> str:
    match = re.search(r"koppel (\d{3} \d{3})", replies)
    assert match, replies
    return match.group(1)


async def link(bot: Bot, first: str = "alice", other: str = "phone2") -> str:
    """Ask for a code on ``first`` and send it from ``other``; what ``other`` got."""
    code = code_from(texts(await bot.say("koppel", first)))
    return texts(await bot.say(f"koppel {code}", other))


async def test_the_other_account_goes_on_with_the_same_intake(db_url: str) -> None:
    async with Bot(db_url) as bot:
        await bot.script(["hallo", "1", "nee", "wethouder"])
        replies = await bot.say("koppel")
        assert re.match(r"Uw koppelcode is \d{3} \d{3}\.", replies[0].text)
        assert replies[-1].text.startswith("Voor welke overheid"), \
            "the question is asked again after the code"
        code = code_from(texts(replies))
        joined = texts(await bot.say(f"koppel {code}", "phone2"))
        assert joined.startswith("Gelukt: dit account hoort nu bij uw melding.")
        assert "Voor welke overheid" in joined, "the same intake, at the same question"
        told = texts(bot.channel.to("alice"))
        assert "Uw melding is nu ook gekoppeld aan een ander account" in told
        await bot.script(["gemeente", "Gemeente Ergenshuizen"], who="phone2")
        (case,) = bot.cases("alice")
        assert bot.cases("phone2") == [], "one person, one case"
        with bot.session() as s:
            first, second = (s.scalars(select(Person).where(Person.address == who)).one()
                             for who in ("alice", "phone2"))
            assert second.linked_to == first.id and first.reply_identity_id == second.id
        assert bot.conversation("alice").data["answers"]["incident.org_name"] == {
            "text": "Gemeente Ergenshuizen"}
        assert case.kind == "incident"


async def test_a_code_works_once_and_only_for_ten_minutes(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1"])
        code = code_from(texts(await bot.say("koppel")))
        assert "Gelukt" in texts(await bot.say(f"koppel {code}", "phone2"))
        again = texts(await bot.say(f"koppel {code}", "phone3"))
        assert "Die code ken ik niet, of hij is verlopen." in again
        late = code_from(texts(await bot.say("koppel")))
        with bot.db.begin() as cx:
            cx.execute(update(LinkCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        assert "Die code ken ik niet" in texts(await bot.say(f"koppel {late}", "phone4"))
        assert bot.person("phone4").linked_to is None  # type: ignore[union-attr]


async def test_guessing_and_asking_are_limited(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1"])
        for _ in range(3):
            assert "Uw koppelcode is" in texts(await bot.say("koppel"))
        assert "Vraag over een uur een nieuwe code" in texts(await bot.say("koppel"))
        for number in range(5):
            wrong = texts(await bot.say(f"koppel 000 00{number}", "mallory"))
            assert "Die code ken ik niet" in wrong
        with bot.session() as s:
            live = s.scalars(select(LinkCode).where(LinkCode.used_at.is_(None))
                             .order_by(LinkCode.id.desc())).first()
        assert live is not None
        # Even the right code is refused after five wrong ones within the hour.
        refused = texts(await bot.say("koppel 999 999", "mallory"))
        assert "Er zijn te veel verkeerde codes gestuurd" in refused


async def test_a_bare_number_is_an_answer_even_when_it_is_someone_s_live_code(
        sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1"], who="alice")
        code = code_from(texts(await bot.say("koppel", "alice"))).replace(" ", "")
        await bot.script(["hallo", "1", "nee", "wethouder", "gemeente"], who="bob")
        await bot.say(code, "bob")
        answers = bot.conversation("bob").data["answers"]
        assert answers["incident.org_name"] == {"text": code}
        assert bot.person("bob").linked_to is None  # type: ignore[union-attr]
        assert "Gelukt" in texts(await bot.say(f"koppel {code}", "phone2")), \
            "the code was not used up by the answer"


async def test_unlinking_the_other_account_gives_it_a_fresh_start(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1", "nee"])
        await link(bot)
        parted = texts(await bot.say("ontkoppel", "phone2"))
        assert "Dit account hoort niet meer bij uw melding." in parted
        fresh = texts(await bot.say("hallo", "phone2"))
        assert fresh.startswith("Welkom") and "Waarmee kan ik u helpen?" in fresh, \
            "the other account starts afresh, at the menu"
        assert "Wat is uw functie?" in texts(await bot.say("hallo", "alice")), \
            "the first account goes on with the intake"
        assert "niet gekoppeld" in texts(await bot.say("ontkoppel", "alice"))


async def test_unlinking_the_first_account_leaves_the_case_with_the_other(
        sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1", "nee"])
        await link(bot)
        await bot.say("ontkoppel", "alice")
        assert bot.cases("alice") == []
        (case,) = bot.cases("phone2")
        assert case.kind == "incident"
        assert "Wat is uw functie?" in texts(await bot.say("hallo", "phone2"))


async def test_erasure_removes_both_accounts(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1", "nee"])
        await link(bot)
        await bot.say("verwijder", "phone2")
        await bot.say("ja", "phone2")
        with bot.session() as s:
            assert s.scalars(select(Person)).all() == []
            assert s.scalars(select(Case)).all() == []


async def test_the_expert_sees_nothing_of_the_accounts_and_writes_to_the_latest(
        db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        await bot.say("aannemen 1", who="anna")
        await link(bot, "alice", "matrix-alice")
        await bot.say("Ik schrijf nu vanaf mijn andere telefoon.", "matrix-alice")
        seen_by_anna = texts(bot.channel.to("anna"))
        assert "Ik schrijf nu vanaf mijn andere telefoon." in seen_by_anna
        assert "alice" not in seen_by_anna and "koppel" not in seen_by_anna.lower()
        before = len(bot.channel.to("alice"))
        await bot.say("Dank u, ik bel u straks.", who="anna")
        assert "Dank u, ik bel u straks." in texts(bot.channel.to("matrix-alice"))
        assert len(bot.channel.to("alice")) == before, "to the account used last"
