"""Routing on the Telegram channel: two experts and a coordinator on a local Bot API server.
One declines with the button, one never answers, the coordinator gets it in time and takes it
with the button; files and words go both ways; two accepts at once, one wins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.adapters.telegram import TelegramChannel
from bot.engine import Engine
from bot.routing import Router, RoutingSettings
from config.experts import Roster
from storage.database import create_db_engine
from tests.harness import FACTS, FLOWS, make_logic
from tests.intake import INCIDENT_SUBMITTED
from tests.routing_support import roster_data
from tests.telegram_api import FakeTelegram, Sent

PERSON, ANNA, BERT, CARLA = 5551234, 1001, 1002, 1003


@dataclass
class Running:
    telegram: FakeTelegram
    engine: Engine


@pytest.fixture
async def running(sqlite_url: str) -> AsyncIterator[Running]:
    telegram = FakeTelegram()
    await telegram.start()
    channel = TelegramChannel(telegram.token, base_url=telegram.base_url, poll_timeout=1)
    roster = Roster.model_validate(roster_data("telegram", str(ANNA), str(BERT), str(CARLA)))
    router = Router(roster, FLOWS, FACTS, RoutingSettings(
        urgent_seconds=0.5, normal_seconds=0.5, urgent_ask_count=2, high_seconds=0.5,
        high_ask_count=1))
    engine = Engine(create_db_engine(sqlite_url), make_logic(), max_backoff_seconds=0.2,
                    router=router)
    await engine.start({"telegram": channel})
    await channel.start(engine.handle)
    try:
        yield Running(telegram, engine)
    finally:
        await channel.stop()
        await engine.stop()
        await telegram.stop()


def offer(tg: FakeTelegram, chat: int) -> Sent:
    return next(m for m in tg.to(chat) if "Nieuwe zaak" in m.text)


async def test_decline_silence_coordinator_accepts_and_relay(running: Running) -> None:
    tg = running.telegram
    for line in INCIDENT_SUBMITTED:
        count = len(tg.to(PERSON))
        tg.user_says(PERSON, line)
        await tg.wait_for(PERSON, count + 1)
    await tg.wait_until(lambda: any("Nieuwe zaak #1" in m.text for m in tg.to(ANNA)))
    tg.user_presses(ANNA, offer(tg, ANNA), "Afwijzen")
    await tg.wait_until(lambda: any("afgewezen" in m.text for m in tg.to(ANNA)))
    await tg.wait_until(lambda: any("Nieuwe zaak #1" in m.text for m in tg.to(BERT)))
    # Bert never answers; within the (shortened) time the coordinator is asked.
    await tg.wait_until(lambda: any("Nieuwe zaak #1" in m.text for m in tg.to(CARLA)),
                        within=5)
    await tg.wait_until(lambda: any("coördinator" in m.text for m in tg.to(PERSON)))
    # Bert's offer keeps its buttons though other messages came after it.
    assert offer(tg, BERT).buttons
    tg.user_presses(CARLA, offer(tg, CARLA), "Aannemen")
    await tg.wait_until(lambda: any("Carla" in m.text and "gaat u helpen" in m.text
                                    for m in tg.to(PERSON)))
    await tg.wait_until(lambda: any("al aangenomen" in m.text for m in tg.to(BERT)))
    assert any("Ergenshuizen" in m.text for m in tg.to(CARLA))  # the full intake now

    tg.user_sends_photo(PERSON)
    await tg.wait_until(lambda: any(m.file == ("photo", "photo-2") for m in tg.to(CARLA)))
    tg.user_says(CARLA, "Dank u. Ik bel u morgen om 10 uur.")
    await tg.wait_until(lambda: tg.to(PERSON)[-1].text ==
                        "Carla:\nDank u. Ik bel u morgen om 10 uur.")
    tg.user_says(PERSON, "Dat is goed.")
    await tg.wait_until(lambda: tg.to(CARLA)[-1].text == "[#1] Dat is goed.")
    # The person never sees an expert's Telegram id, nor the expert the person's.
    assert all(str(CARLA) not in m.text for m in tg.to(PERSON))
    assert all(str(PERSON) not in m.text for m in tg.to(CARLA))


async def test_two_accepts_at_once_one_wins(running: Running) -> None:
    tg = running.telegram
    for line in ["hallo", "1", "ja"]:  # danger now: urgent, two experts asked at once
        count = len(tg.to(PERSON))
        tg.user_says(PERSON, line)
        await tg.wait_for(PERSON, count + 1)
    await tg.wait_until(lambda: any("Nieuwe zaak" in m.text for m in tg.to(ANNA))
                        and any("Nieuwe zaak" in m.text for m in tg.to(BERT)))
    tg.user_presses(ANNA, offer(tg, ANNA), "Aannemen")
    tg.user_presses(BERT, offer(tg, BERT), "Aannemen")
    await tg.wait_until(lambda: sum(
        any("U heeft zaak #1 aangenomen" in m.text for m in tg.to(chat))
        or any("al aangenomen" in m.text for m in tg.to(chat)) for chat in (ANNA, BERT)) == 2)
    winners = [chat for chat in (ANNA, BERT)
               if any("U heeft zaak #1 aangenomen" in m.text for m in tg.to(chat))]
    assert len(winners) == 1
    await tg.wait_until(lambda: any("gaat u helpen" in m.text for m in tg.to(PERSON)))
    await running.engine.drain()
    assert sum("gaat u helpen" in m.text for m in tg.to(PERSON)) == 1
