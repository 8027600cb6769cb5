"""Shift times in words, in Dutch and English, without depending on the machine's locale:
"do 3 dec 18:00 – vr 4 dec 08:00"."""

from __future__ import annotations

from datetime import datetime

from config.experts import DAYS
from config.timezone import TIMEZONE

_DAYS = {"nl": ("ma", "di", "wo", "do", "vr", "za", "zo"),
         "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
_MONTHS = {"nl": ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov",
                  "dec"),
           "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                  "Dec")}


def moment(at: datetime, language: str) -> str:
    local = at.astimezone(TIMEZONE)
    language = "en" if language == "en" else "nl"
    return (f"{_DAYS[language][local.weekday()]} {local.day} "
            f"{_MONTHS[language][local.month - 1]} {local:%H:%M}")


def stretch(start: datetime, end: datetime, language: str) -> str:
    return f"{moment(start, language)} – {moment(end, language)}"



def days(names: tuple[str, ...], language: str) -> str:
    """A shift's days ("mon", ...) in words: "ma di wo"."""
    language = "en" if language == "en" else "nl"
    return " ".join(_DAYS[language][DAYS.index(name)] for name in names)
