"""When something happened, as people say it: "afgelopen maandag", "vorige week dinsdag",
"twee dagen geleden", "3 days ago", "op 28 november". :mod:`bot.understanding.dates` reads
days to come; this reads days gone by, and the period a flow's options stand for ("Deze week").
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta
from typing import Any

from bot.understanding.dates import MONTHS, NUMBERS, TIME_OF_DAY, weekday_in
from flows.schema import Period
from flows.text import normalize

_BEFORE = ("afgelopen", "vorige", "vorig", "jongstleden", "last", "past")
_AHEAD = ("volgende", "komende", "aanstaande", "next", "coming")
_IN = ("over", "in")
"""Before a number, a time to come: "over twee dagen", "in 3 days"."""
_AGO = ("geleden", "ago")
_UNITS = {"dag": 1, "dagen": 1, "day": 1, "days": 1, "week": 7, "weken": 7, "weeks": 7}
_NUMERIC_DATE = re.compile(r"\b\d{1,2}[-/]\d{1,2}\b")
_LAST_WEEK = (("vorige", "week"), ("last", "week"), ("afgelopen", "week"))


def understand_past_day(text: str, today: date) -> date | None:
    """The day gone by that ``text`` names, or None (a day to come is none)."""
    words = normalize(text).replace("-", " ").split()
    if any(word in _AHEAD for word in words) or any(  # "volgende week dinsdag"
            a in _IN and (b in NUMBERS or b.isdigit()) for a, b in itertools.pairwise(words)):
        return None
    written = any(word in MONTHS for word in words) or _NUMERIC_DATE.search(text) is not None
    day = _ago(words, today) or (_written(text, today) if written else _weekday(words, today))
    return day if day is not None and day <= today else None


def period_of(day: date, today: date) -> Period:
    """Today, yesterday, earlier this week (from Monday), or before."""
    if day == today:
        return "today"
    if day == today - timedelta(days=1):
        return "yesterday"
    monday = today - timedelta(days=today.weekday())
    return "this_week" if monday <= day < today else "earlier"


def _ago(words: list[str], today: date) -> date | None:
    """"twee dagen geleden", "3 weeks ago"."""
    for index, word in enumerate(words[2:], start=2):
        if word in _AGO and words[index - 1] in _UNITS:
            amount = words[index - 2]
            number = NUMBERS.get(amount) or (int(amount) if amount.isdigit() else None)
            if number:
                return today - timedelta(days=number * _UNITS[words[index - 1]])
    return None


def _weekday(words: list[str], today: date) -> date | None:
    """"afgelopen maandag" and "maandag" (the last one, or today), "vorige week dinsdag"
    (that day of last week)."""
    weekday = weekday_in(words)
    if weekday is None:
        return None
    pairs = list(itertools.pairwise(words))
    if any(pair in pairs for pair in _LAST_WEEK):
        monday = today - timedelta(days=today.weekday() + 7)
        return monday + timedelta(days=weekday)
    back = (today.weekday() - weekday) % 7
    if back == 0 and any(word in _BEFORE for word in words):
        back = 7  # "last monday", said on a Monday
    return today - timedelta(days=back)


def _written(text: str, today: date) -> date | None:
    """A date written out: "op 28 november", "28-11"."""
    from dateparser.search import search_dates  # late: its language data takes a second

    settings: Any = {"DATE_ORDER": "DMY", "PREFER_DATES_FROM": "past",
                     "RELATIVE_BASE": datetime(today.year, today.month, today.day)}
    cleaned = TIME_OF_DAY.sub(" ", text)  # "om 20.00" is no year
    for piece, moment in search_dates(cleaned, languages=["nl", "en"], settings=settings) or []:
        if any(ch.isdigit() for ch in piece) and not piece.strip().isdigit():
            return moment.date()
    return None
