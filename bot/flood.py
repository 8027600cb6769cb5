"""The flood limit: how many messages of one person the engine handles in a moving window.

Past the limit a message is not handled and the person gets one calm notice per window:
others are not slowed down, as nothing reaches the database. A message that signals danger,
asks for a person or is the quick exit word always gets through, but as a *burst*: it is kept
with the report (or passed on to the expert, joined with the others of its batch), not taken as
an answer, and the danger advice is said at most once a short while. The same alarm sent again
within that while (200 times "help") is handled the same way, within the limit too.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from limits import parse as parse_limit
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from bot.events import InboundEvent
from flows.text import normalize

ALARM_WINDOW_SECONDS = 30
MAX_REMEMBERED_ALARMS = 10_000


@dataclass(frozen=True)
class Admission:
    """What the engine does with a message: handle it (as a burst or not, with the danger
    advice or without), or hold it back (with the calm notice or without)."""

    handle: bool
    burst: bool = False
    advise: bool = True
    notice: bool = False


class FloodGuard:
    def __init__(self, limit: str, *, is_alarm: Callable[[str], bool],
                 gets_through: Callable[[str], bool]) -> None:
        """``gets_through``: a message that is handled past the limit too (asking for a
        person, the quick exit), besides an alarm."""
        self._item = parse_limit(limit)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._notice = parse_limit(f"1/{self._item.multiples} {self._item.GRANULARITY.name}")
        self._advice = parse_limit(f"1/{ALARM_WINDOW_SECONDS} seconds")
        self._is_alarm = is_alarm
        self._gets_through = gets_through
        self._last_alarm: OrderedDict[tuple[str, str], tuple[str, float]] = OrderedDict()

    def admit(self, event: InboundEvent) -> Admission:
        who = (event.channel, event.sender)
        within = self._limiter.hit(self._item, *who)
        text = event.text or ""
        alarm = bool(text.strip()) and self._is_alarm(text)
        if not within:
            if not (alarm or (text and self._gets_through(text))):
                return Admission(handle=False,
                                 notice=self._limiter.hit(self._notice, "notice", *who))
            return Admission(handle=True, burst=True, advise=self._advice_due(who))
        if not alarm:
            return Admission(handle=True)
        if self._repeated(who, text):
            return Admission(handle=True, burst=True, advise=False)
        self._advice_due(who)  # said now: not again in a burst within the while
        return Admission(handle=True)

    def _advice_due(self, who: tuple[str, str]) -> bool:
        return self._limiter.hit(self._advice, "advice", *who)

    def _repeated(self, who: tuple[str, str], text: str) -> bool:
        """The same alarm as the one this person was last advised on, within the while."""
        key, now = normalize(text), time.monotonic()
        previous = self._last_alarm.get(who)
        if previous is not None and previous[0] == key \
                and now - previous[1] < ALARM_WINDOW_SECONDS:
            return True
        self._last_alarm[who] = (key, now)
        self._last_alarm.move_to_end(who)
        while len(self._last_alarm) > MAX_REMEMBERED_ALARMS:
            self._last_alarm.popitem(last=False)
        return False
