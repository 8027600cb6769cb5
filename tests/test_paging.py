"""Paging for urgent cases on the real engine, database and pager adapter, against a local
server speaking the SMS provider's HTTP API: who is paged and when, that no content goes by
SMS, that accepting ends it, and that a provider's failures are retried and counted."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from bot.adapters.sms import SmsChannel, TwilioProvider
from bot.metrics import Metrics
from bot.routing import Router, RoutingSettings
from config.experts import Roster
from config.settings import Settings
from storage.models import AuditEntry
from tests.harness import FACTS, FLOWS, Bot, texts, wait_for
from tests.routing_support import roster_data
from tests.sms_api import ACCOUNT, TOKEN, FakeSmsApi

NUMBERS = {"anna": "+31611111111", "bert": "+31622222222", "carla": "+31633333333"}
DANGER_NOW = ["hallo", "1", "ja"]  # in danger now: urgent, both on call asked at once
SENDER = "Weerbaar"


def paged_roster() -> Roster:
    data: dict[str, Any] = roster_data()
    for expert in data["experts"]:
        expert["pager"] = NUMBERS[expert["id"]]
    return Roster.model_validate(data)


def paged_bot(url: str, api: FakeSmsApi, metrics: Metrics, *, paging: bool = True,
              urgent: float = 0.7) -> Bot:
    roster = paged_roster()
    router = Router(roster, FLOWS, FACTS, RoutingSettings(
        urgent_seconds=urgent, normal_seconds=urgent, high_seconds=urgent, urgent_ask_count=2,
        high_ask_count=1, paging=paging), metrics)
    pager = SmsChannel(TwilioProvider(ACCOUNT, TOKEN, SENDER, base_url=api.url),
                       roster.pager_numbers(),
                       on_result=lambda result: metrics.pages.labels(result).inc())
    return Bot(url, router=router, channel_name="console", metrics=metrics,
               more_channels={"sms": pager})



def count(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_an_urgent_case_nobody_takes_pages_the_experts_then_the_coordinator(
        db_url: str) -> None:
    metrics = Metrics()
    async with FakeSmsApi() as api, paged_bot(db_url, api, metrics) as bot:
        await bot.script(DANGER_NOW)
        assert api.texts == []  # asked in the chat first; paged only when nobody answers
        await wait_for(lambda: len(api.texts) >= 2, within=5)
        assert {t.to for t in api.texts[:2]} == {NUMBERS["anna"], NUMBERS["bert"]}
        assert all(t.body == "Weerbaar Bestuur: spoedzaak 1 wacht op u. Open uw chat."
                   and t.sender == SENDER for t in api.texts)
        # Then the coordinator is asked in the chat, and paged once silent too.
        await wait_for(lambda: NUMBERS["carla"] in {t.to for t in api.texts}, within=5)
        assert "Nieuwe zaak #1" in texts(bot.channel.to("carla"))
        # Each is paged once for the case, however long it waits.
        await asyncio.sleep(1.0)
        assert sorted(t.to for t in api.texts) == sorted(NUMBERS.values())
        # Accepting in the chat acknowledges: no page follows.
        await bot.say("aannemen 1", who="anna")
        sent = len(api.texts)
        await asyncio.sleep(1.0)
        assert len(api.texts) == sent
        assert count(metrics, "weerbaar_pages_total", result="sent") == 3
        with bot.session() as s:
            paged = [str(a.detail) for a in s.scalars(select(AuditEntry).where(
                AuditEntry.action == "paged").order_by(AuditEntry.id))]
        assert sorted(paged) == ["anna", "bert", "carla"]


async def test_a_failing_provider_is_retried_and_counted(sqlite_url: str) -> None:
    metrics = Metrics()
    async with FakeSmsApi() as api, paged_bot(sqlite_url, api, metrics) as bot:
        api.fail_next = 3
        await bot.script(DANGER_NOW)
        await wait_for(lambda: len(api.texts) >= 2, within=10)
        assert {t.to for t in api.texts[:2]} == {NUMBERS["anna"], NUMBERS["bert"]}
        assert count(metrics, "weerbaar_pages_total", result="failed") == 3
        assert count(metrics, "weerbaar_delivery_failures_total", channel="sms",
                     permanent="false") == 3


async def test_a_normal_case_or_paging_off_sends_no_text_message(sqlite_url: str) -> None:
    from tests.intake import INCIDENT_SUBMITTED

    metrics = Metrics()
    async with FakeSmsApi() as api:
        async with paged_bot(sqlite_url, api, metrics) as bot:
            await bot.script(INCIDENT_SUBMITTED)  # not urgent
            await wait_for(lambda: "Nieuwe zaak #1" in texts(bot.channel.to("carla")), 5)
            await asyncio.sleep(0.6)
        assert api.texts == []
    async with FakeSmsApi() as api:
        async with paged_bot(sqlite_url, api, metrics, paging=False) as bot:
            await bot.script(DANGER_NOW, who="bob")
            await wait_for(lambda: "Nieuwe zaak #2" in texts(bot.channel.to("carla")), 5)
            await asyncio.sleep(0.6)
        assert api.texts == []


def test_paging_settings_and_pager_numbers_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEERBAAR_SMS_PROVIDER", "twilio")
    monkeypatch.setenv("WEERBAAR_SMS_ACCOUNT", ACCOUNT)
    with pytest.raises(ValidationError, match="WEERBAAR_SMS_TOKEN"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("WEERBAAR_SMS_TOKEN", TOKEN)
    monkeypatch.setenv("WEERBAAR_SMS_FROM", SENDER)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.sms_provider == "twilio" and settings.sms_from == SENDER
    data: dict[str, Any] = roster_data()
    data["experts"][0]["pager"] = "0612345678"  # not in international form
    with pytest.raises(ValidationError, match="pager"):
        Roster.model_validate(data)
