"""What the crash tests' people say: an intake with words of each one's own, then the answers
to the check-in, each line once the bot answered the one before."""

from __future__ import annotations

import asyncio
import random

from tests.checkin_support import CHECKIN_HELLO
from tests.intake import INCIDENT_SUBMITTED
from tests.telegram_api import FakeTelegram

DESCRIPTION = INCIDENT_SUBMITTED.index(
    "Hij schreef dat hij weet waar mijn kinderen naar school gaan.")
CHECKIN_ANSWERS = ["4", "goed", "nee", "ja"]
CHECKIN_DONE = "Dank u wel voor uw antwoorden"


def intake_script(person: int) -> list[str]:
    """The intake with words of this person's own, so answers cannot be mixed up."""
    script = list(INCIDENT_SUBMITTED)
    script[DESCRIPTION] = f"Persoon {person} kreeg een brief met een dreigement."
    return script


async def talk(telegram: FakeTelegram, chat: int, rng: random.Random,
               pause: tuple[float, float] = (0.05, 0.4)) -> None:
    """Type the intake and answer the check-in on Telegram; ``pause``: seconds between
    reading an answer and sending the next line."""

    async def say(line: str) -> None:
        count = len(telegram.to(chat))
        telegram.user_says(chat, line)
        await telegram.wait_for(chat, count + 1, within=90)  # nobody is left without an answer
        await asyncio.sleep(rng.uniform(*pause))

    for line in intake_script(chat):
        await say(line)
    await telegram.wait_until(lambda: any(CHECKIN_HELLO in m.text for m in telegram.to(chat)),
                              within=90)
    for line in CHECKIN_ANSWERS:
        await say(line)
    await telegram.wait_until(lambda: any(CHECKIN_DONE in m.text for m in telegram.to(chat)),
                              within=90)
