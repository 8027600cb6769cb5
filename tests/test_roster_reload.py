"""A changed roster while the bot runs: new experts act at once, and the cases of experts who
left go to others (the person is told, nothing is lost)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.roster_watch import RosterWatcher
from config.experts import Roster, load_roster, save_roster
from storage.models import AuditEntry, Handoff
from tests.console_process import ROOT, ConsoleBot, console_env
from tests.harness import Bot, texts
from tests.intake import INCIDENT_SUBMITTED
from tests.routing_support import make_router, roster_data, routed_bot

pytestmark = pytest.mark.slow  # starts the bot as a process


def without(expert: str) -> Roster:
    data: dict[str, Any] = roster_data()
    data["experts"] = [e for e in data["experts"] if e["id"] != expert]
    for shift in data["on_call"]["shifts"]:
        shift["experts"] = [x for x in shift["experts"] if x != expert]
    return Roster.model_validate(data)


def handoffs(bot: Bot) -> list[tuple[str, str]]:
    with bot.session() as s:
        return [(h.expert, h.status) for h in s.scalars(select(Handoff).order_by(Handoff.id))]


def audited(bot: Bot) -> list[tuple[str, str, str | None]]:
    with bot.session() as s:
        return [(a.actor, a.action, a.detail)
                for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


async def settle(bot: Bot, condition: Any, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)
    await bot.engine.drain()


async def test_a_taken_case_of_an_expert_who_left_goes_to_a_colleague(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        await bot.say("aannemen 1", who="anna")
        await bot.say("Ik bel u morgen om tien uur.", who="anna")
        assert "Ik bel u morgen om tien uur." in texts(bot.channel.to("alice"))

        await bot.engine.use_roster(without("anna"))
        await settle(bot, lambda: bot.channel.to("bert"))

        person = texts(bot.channel.to("alice"))
        assert "Uw contactpersoon kan uw melding niet langer behandelen" in person
        assert "Nieuwe zaak #1" in texts(bot.channel.to("bert"))
        (case,) = bot.cases()
        assert case.status == "asking" and case.assigned_expert is None
        assert handoffs(bot) == [("anna", "transferred"), ("bert", "asked")]
        assert ("bot", "released", "anna") in audited(bot)
        # Anna is no longer an expert: what she sends is a stranger's first message.
        await bot.say("aannemen 1", who="anna")
        assert bot.cases()[0].status == "asking"
        # Bert takes it over and sees what Anna and the person wrote.
        replies = await bot.say("aannemen 1", who="bert")
        assert "U heeft zaak #1 aangenomen" in texts(replies)
        assert "Bert" in texts(bot.channel.to("alice"))
        assert "Ik bel u morgen om tien uur." in texts(bot.channel.to("bert"))


async def test_an_offer_to_an_expert_who_left_moves_on_at_once(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router(escalation=600)) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        assert "Nieuwe zaak #1" in texts(bot.channel.to("anna"))

        await bot.engine.use_roster(without("anna"))
        await settle(bot, lambda: bot.channel.to("bert"))

        assert "Nieuwe zaak #1" in texts(bot.channel.to("bert"))
        assert handoffs(bot) == [("anna", "withdrawn"), ("bert", "asked")]
        assert ("bot", "offer_withdrawn", None) in audited(bot)
        assert bot.cases()[0].status == "asking"


async def test_an_expert_added_while_running_can_act_at_once(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        before = texts(await bot.say("zaken", who="dirk"))
        assert "zaak" not in before.lower()  # a stranger: the bot greets a new person
        data = roster_data()
        data["experts"].append({"id": "dirk", "name": "Dirk Bakker",
                                "address": "console:dirk", "coordinator": True})
        await bot.engine.use_roster(Roster.model_validate(data))
        replies = await bot.say("aannemen 1", who="dirk")
        assert "U heeft zaak #1 aangenomen" in texts(replies)
        assert bot.cases()[0].assigned_expert == "dirk"


async def test_a_roster_that_loses_nobody_changes_no_case(db_url: str) -> None:
    async with routed_bot(db_url, router=make_router()) as bot:
        await bot.script(INCIDENT_SUBMITTED)
        await bot.say("aannemen 1", who="anna")
        before = texts(bot.channel.to("alice"))
        await bot.engine.use_roster(Roster.model_validate(roster_data()))
        await asyncio.sleep(0.3)  # escalation checks (every 0.1 s here), which must find nothing
        await bot.engine.drain()
        assert texts(bot.channel.to("alice")) == before
        assert bot.cases()[0].assigned_expert == "anna"
        assert handoffs(bot) == [("anna", "accepted")]


def test_the_running_console_bot_follows_the_experts_file(tmp_path: Path) -> None:
    """As an operator does it: `weerbaar experts remove` while a case is taken, then a broken
    file and SIGHUP; the bot keeps going and says in its log what it did."""
    experts = tmp_path / "experts.yaml"
    experts.write_text((ROOT / "config" / "experts.example.yaml").read_text("utf-8"), "utf-8")
    log_file = tmp_path / "bot.log"
    # The intake is of urgency 'hoog'; one expert at a time keeps the order this test follows.
    env = {"WEERBAAR_EXPERTS_FILE": str(experts), "WEERBAAR_EXPERTS_RELOAD_SECONDS": "0.2",
           "WEERBAAR_LOG_FILE": str(log_file), "WEERBAAR_HIGH_ASK_COUNT": "1"}
    bot = ConsoleBot(tmp_path / "data", **env)
    try:
        bot.type(*INCIDENT_SUBMITTED)
        bot.wait_for("[@anna] Nieuwe zaak #1")
        bot.type("@anna: aannemen 1", "@anna: Goedemiddag, met Anna.")
        bot.wait_for("Goedemiddag, met Anna.")

        removed = subprocess.run(
            [sys.executable, "-m", "bot.admin.cli", "experts", "remove", "anna"], cwd=ROOT,
            env=console_env(tmp_path / "data", **env), capture_output=True, text=True,
            timeout=60)
        assert removed.returncode == 0, removed.stderr
        assert "the running bot uses it within 0.2 s" in removed.stdout
        bot.wait_for("Uw contactpersoon kan uw melding niet langer behandelen")
        bot.wait_for("[@bert] Nieuwe zaak #1")
        wait_until(lambda: "experts.reloaded count=2" in log_file.read_text("utf-8"))

        experts.write_text("experts: [this is not: a roster\n", "utf-8")
        bot.process.send_signal(signal.SIGHUP)
        wait_until(lambda: "experts.reload_failed" in log_file.read_text("utf-8"))
        bot.type("@bert: aannemen 1")  # the roster in use was kept
        bot.wait_for("[@bert] U heeft zaak #1 aangenomen")
        bot.wait_for("Collega: Goedemiddag, met Anna.")
        assert bot.finish() == 0
    finally:
        if bot.process.poll() is None:
            bot.kill()
    assert "Bert (medewerker van het Ondersteuningsteam) gaat u helpen" in bot.output


def wait_until(condition: Callable[[], bool], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


async def test_the_watcher_reloads_on_request_and_keeps_a_roster_over_an_empty_file(
        tmp_path: Path) -> None:
    path = tmp_path / "experts.yaml"
    save_roster(path, without("bert"))
    used: list[Roster] = []

    async def use(roster: Roster) -> None:
        used.append(roster)

    watcher = RosterWatcher(path, lambda: load_roster(path), use, load_roster(path),
                            interval_seconds=0)  # 0: only on request (SIGHUP)
    task = asyncio.create_task(watcher.run())
    try:
        save_roster(path, Roster.model_validate(roster_data()))
        watcher.request()
        deadline = asyncio.get_running_loop().time() + 10
        while not used:
            assert asyncio.get_running_loop().time() < deadline, "never reloaded"
            await asyncio.sleep(0.02)
        assert used[0].by_id("bert") is not None
        path.write_text("experts: []\n", "utf-8")
        assert await watcher.reload() is False  # nobody left to help: refused
        path.write_text("experts: [not: valid\n", "utf-8")
        assert await watcher.reload() is False
        assert len(used) == 1
    finally:
        task.cancel()
