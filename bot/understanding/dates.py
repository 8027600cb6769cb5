"""Dates as people say them, in Dutch and English.

dateparser reads dates written out ("10 december", "15-03-2027", "next Friday") but not the
relative Dutch forms ("volgende week donderdag", "over twee weken", "overmorgen"): those are
read here first. A month without a day ("eind januari") is not a day: the caller asks which.
"""

from __future__ import annotations

import calendar
import itertools
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from bot.understanding.words import close_enough
from flows.text import normalize

WEEKDAYS = {
    "maandag": 0, "dinsdag": 1, "woensdag": 2, "donderdag": 3, "vrijdag": 4, "zaterdag": 5,
    "zondag": 6, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
    "saturday": 5, "sunday": 6,
}
MONTHS = {
    "januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7,
    "augustus": 8, "september": 9, "oktober": 10, "november": 11, "december": 12,
    "january": 1, "february": 2, "march": 3, "may": 5, "june": 6, "july": 7, "august": 8,
    "october": 10,
}
NUMBERS = {
    "een": 1, "1": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7,
    "acht": 8, "negen": 9, "tien": 10, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3,
    "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}
_DAYS = {"dag": 1, "dagen": 1, "day": 1, "days": 1, "week": 7, "weken": 7, "weeks": 7}
_MONTH_UNITS = ("maand", "maanden", "month", "months")
_NEXT_MONTH = (("volgende", "maand"), ("next", "month"), ("komende", "maand"))
_NEXT_WEEK = (("volgende", "week"), ("next", "week"), ("komende", "week"))
_TOMORROW = ("morgen", "morgenavond", "morgenochtend", "morgenmiddag", "tomorrow")
_TODAY = ("vandaag", "vanochtend", "vanmorgen", "vanmiddag", "vanavond", "today", "tonight")
_PARTS_OF_DAY = ("ochtend", "morgen", "middag", "avond", "nacht")
"""Written after a weekday in one word: "zaterdagochtend", "vrijdagavond"."""
_NAMED_DAYS = {
    "kerstavond": (12, 24), "christmas eve": (12, 24), "kerst": (12, 25), "kerstmis": (12, 25),
    "christmas": (12, 25), "boxing day": (12, 26), "oudejaarsavond": (12, 31),
    "oudjaarsavond": (12, 31), "oudejaarsdag": (12, 31), "oud en nieuw": (12, 31),
    "new years eve": (12, 31), "new year s eve": (12, 31), "sinterklaas": (12, 5),
    "pakjesavond": (12, 5),
    "bevrijdingsdag": (5, 5), "valentijnsdag": (2, 14), "valentines day": (2, 14),
}
"""Days people name that the public holidays (the ``holidays`` package) do not hold."""
_HOLIDAY_NAMES = {"pasen": "eerste paasdag", "easter": "easter sunday",
                  "pinksteren": "eerste pinksterdag", "hemelvaart": "hemelvaartsdag",
                  "new years day": "new year s day", "nieuwjaar": "nieuwjaarsdag"}
"""Short names of public holidays."""
_NOT_ON = frozenset({"na", "voor", "after", "before"})
"""Before a named day, these name another ("na de kerst")."""


DATE_WORDS = frozenset({
    *WEEKDAYS, *MONTHS, *(word for word in NUMBERS if word.isalpha()), *_DAYS, *_MONTH_UNITS,
    *(word for pair in _NEXT_MONTH + _NEXT_WEEK for word in pair), *_TOMORROW, *_TODAY,
    *_PARTS_OF_DAY, "overmorgen", "aanstaande", "over", "eind", "begin", "half", "day",
    "after", "this", "coming", "deze",
    *(day + part for day in list(WEEKDAYS)[:7] for part in _PARTS_OF_DAY),
    *(word for name in [*_NAMED_DAYS, *_HOLIDAY_NAMES] for word in name.split()),
    "eerste", "tweede", "kerstdag", "paasdag", "pinksterdag", "hemelvaartsdag", "koningsdag",
    "nieuwjaarsdag", "goede", "king", "kings", "pentecost", "ascension"})
"""The words of dates, which a word typed with a slip at a date question is read as
("donderdg", "januaari")."""


@dataclass(frozen=True)
class Understood:
    """A day, or a month without one (``month``: then ask which day)."""

    day: date | None = None
    month: int | None = None


_ORDINAL = re.compile(r"\b(\d{1,2})(?:e|ste|de|st|nd|rd|th)\b", re.IGNORECASE)


_NUMBER_IN_WORDS = re.compile(
    r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=(?!(?:e|ste|de|st|nd|rd|th)\b)[^\W\d_])",
    re.IGNORECASE)
"""Where a number and a word meet without a space ("op9 december", "3januari"), but not an
ordinal's ending ("12e", "1ste", "21st")."""


def understand_date(text: str, today: date) -> Understood:
    text = _ORDINAL.sub(r"\1", _NUMBER_IN_WORDS.sub(" ", text))
    words = normalize(TIME_OF_DAY.sub(" ", text)).replace("-", " ").split()  # "om 14.00" is no day
    relative = _relative(words, today) or _named_day(" ".join(words), today)
    if relative is not None:
        return Understood(day=relative)
    written = _written(text, today)
    if written is not None:
        return Understood(day=written)
    months = [MONTHS[w] for w in words if w in MONTHS]
    numbers = [int(w) for w in words if w.isdigit()]
    if not months and any(_has_pair(words, pair) for pair in _NEXT_MONTH):
        months = [today.month % 12 + 1]  # "volgende maand": which day?
    if months and not numbers:
        return Understood(month=months[0])
    if not months and len(numbers) == 1 and 1 <= numbers[0] <= 31:
        return Understood(day=_day_of_month(numbers[0], today))  # "zaterdag de 12e"
    return Understood()


def _day_of_month(number: int, today: date) -> date | None:
    year, month = today.year, today.month
    for _ in range(3):
        try:
            day = date(year, month, number)
        except ValueError:
            day = None
        if day is not None and day >= today:
            return day
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def weekday_in(words: list[str]) -> int | None:
    """The weekday the words name, as typed, a letter or two off, or with a part of the day
    ("zaterdagochtend"); 0 is Monday."""
    for word in words:
        for name, number in WEEKDAYS.items():
            if word == name or close_enough(word, name) or (
                    word.startswith(name) and word[len(name):] in _PARTS_OF_DAY):
                return number
    return None


def _relative(words: list[str], today: date) -> date | None:
    if "overmorgen" in words or " ".join(words).find("day after tomorrow") >= 0:
        return today + timedelta(days=2)
    if any(w in _TOMORROW for w in words):
        return today + timedelta(days=1)
    if any(w in _TODAY for w in words) and weekday_in(words) is None:
        return today
    for index, word in enumerate(words[:-1]):  # "over twee weken", "in 3 days"
        if word in ("over", "in") and index + 2 < len(words) + 1:
            amount = NUMBERS.get(words[index + 1]) or (
                int(words[index + 1]) if words[index + 1].isdigit() else None)
            unit = words[index + 2] if index + 2 < len(words) else ""
            if amount and unit in _DAYS:
                later = today + timedelta(days=amount * _DAYS[unit])
                weekday = weekday_in(words) if _DAYS[unit] == 7 else None
                if weekday is None:
                    return later
                # "donderdag over een week": that day in the week it will be then
                return later - timedelta(days=later.weekday()) + timedelta(days=weekday)
            if amount and unit in _MONTH_UNITS:
                return _months_later(today, amount)
    if any(_has_pair(words, pair) for pair in _NEXT_MONTH):
        numbers = [int(w) for w in words if w.isdigit() and 1 <= int(w) <= 31]
        if len(numbers) == 1:  # "volgende maand op de 5e"
            later = _months_later(today.replace(day=1), 1)
            days = calendar.monthrange(later.year, later.month)[1]
            return later.replace(day=numbers[0]) if numbers[0] <= days else None
    weekday = weekday_in(words)
    if weekday is None:
        return None
    if any(_has_pair(words, pair) for pair in _NEXT_WEEK) and not _has_pair(
            words, ("next", weekday_name(weekday))):
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return monday + timedelta(days=weekday)
    if any(any(ch.isdigit() for ch in w) for w in words):
        return None  # "donderdag 10 december": the written date says it
    ahead = (weekday - today.weekday()) % 7
    return today + timedelta(days=ahead or 7)


def _named_day(text: str, today: date) -> date | None:
    """"kerstavond", "tweede kerstdag", "pasen", "king's day": the next one from today."""
    padded = f" {text} "
    for year in (today.year, today.year + 1):
        for name, day in _days_named(year):
            if f" {name} " in padded and day >= today:
                before = padded[:padded.index(f" {name} ")].split()[-2:]
                return None if _NOT_ON.intersection(before) else day
    return None


@lru_cache(maxsize=8)
def _days_named(year: int) -> tuple[tuple[str, date], ...]:
    """The named days of a year, Dutch and English, the longest names first ("tweede
    kerstdag" before "kerst")."""
    import holidays  # late: only a question of a date needs it

    named = {name: date(year, month, day) for name, (month, day) in _NAMED_DAYS.items()}
    for language in ("nl", "en_US"):
        for day, name in holidays.country_holidays("NL", years=year, language=language).items():
            named[normalize(name)] = day
    named.update({short: named[full] for short, full in _HOLIDAY_NAMES.items() if full in named})
    return tuple(sorted(named.items(), key=lambda item: -len(item[0])))


def _months_later(today: date, amount: int) -> date:
    """The same day ``amount`` months on, or the month's last day ("over een maand" on 31
    januari is 28 februari)."""
    month = today.month - 1 + amount
    year, month = today.year + month // 12, month % 12 + 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def weekday_name(number: int) -> str:
    return [n for n, d in WEEKDAYS.items() if d == number][-1]


def _has_pair(words: list[str], pair: tuple[str, str]) -> bool:
    """Two words in a row, each as typed or a letter or two off ("volgnde week")."""
    return any(_like(a, pair[0]) and _like(b, pair[1]) for a, b in itertools.pairwise(words))


def _like(typed: str, word: str) -> bool:
    return typed == word or close_enough(typed, word)


TIME_OF_DAY = re.compile(r"\b(om|at)?\s*\d{1,2}[.:]\d{2}\s*(uur|u|h)?\b", re.IGNORECASE)


def _written(text: str, today: date) -> date | None:
    """A date written out, alone or in a sentence ("de raadsvergadering is op 17 december"),
    with dateparser; a time of day is left out."""
    from dateparser.date import DateDataParser  # late: its language data takes a second
    from dateparser.search import search_dates

    settings: Any = {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": datetime(today.year, today.month, today.day),
    }
    cleaned = TIME_OF_DAY.sub(" ", text)
    parsed = DateDataParser(languages=["nl", "en"], settings=settings).get_date_data(cleaned)
    if parsed.date_obj is not None and parsed.period == "day":
        return parsed.date_obj.date()
    found = search_dates(cleaned, languages=["nl", "en"], settings=settings) or []
    for piece, moment in found:
        if any(ch.isdigit() for ch in piece) and not piece.strip().isdigit():
            return moment.date()
    return None
