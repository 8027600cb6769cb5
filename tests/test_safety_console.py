"""The person's own safety on the console (issue 19), as far as a terminal can show it: the
bot as a process over a pipe (a second identity typed as "@name: ..."), and the console
channel on a real pseudo-terminal for clearing the screen."""

from __future__ import annotations

import os
import pty
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.console import CLEAR_SCREEN, ConsoleChannel
from bot.events import ChatItem
from tests.console_process import ConsoleBot

pytestmark = pytest.mark.slow  # starts the bot as a process


def test_link_and_wipe_over_a_pipe(tmp_path: Path) -> None:
    bot = ConsoleBot(tmp_path)
    try:
        bot.type("hallo", "1", "nee", "koppel")
        bot.wait_for("Stuur daar binnen 10 minuten: koppel")
        match = re.search(r"koppel (\d{3} \d{3})", bot.output)
        assert match
        bot.type(f"@tablet: koppel {match.group(1)}")
        bot.wait_for("[@tablet] Gelukt: dit account hoort nu bij uw melding.")
        bot.wait_for("[@tablet] Wat is uw functie?")
        bot.type("@tablet: wethouder")
        bot.wait_for("[@tablet] Voor welke overheid")
        bot.type("wis")
        bot.wait_for("Wilt u deze chat van uw telefoon halen?")
        bot.type("1")
        bot.wait_for("Dit gesprek is leeggemaakt.")
        assert bot.finish() == 0
    finally:
        bot.process.kill()
    assert "  1. Ja, wis de chat\n  2. Wis, en laat niets achter\n  3. Nee" in bot.output
    assert "[@tablet] Dit gesprek is leeggemaakt." in bot.output, "every account's chat"


async def test_on_a_terminal_the_screen_and_its_scrollback_are_cleared() -> None:
    main, terminal = pty.openpty()
    with os.fdopen(terminal, "w") as screen:
        channel = ConsoleChannel(stdout=screen)
        left = await channel.wipe("console", [ChatItem("x", datetime.now(UTC), True)])
        assert left == 0
    shown = os.read(main, 1024).decode()
    os.close(main)
    assert CLEAR_SCREEN in shown
