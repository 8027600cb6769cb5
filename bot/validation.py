"""Checking typed phone numbers, e-mail addresses and dates with well-kept libraries."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

DEFAULT_REGION = "NL"


def parse_phone(text: str) -> str | None:
    """The number in international format, or ``None`` if it is not a valid number."""
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def parse_email(text: str) -> str | None:
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def parse_date(text: str, today: date) -> date | None:
    """A day named in Dutch or English ("15-03-2027", "15 maart", "vrijdag"); a month or a
    year alone is not a day, so it is refused rather than guessed."""
    from dateparser.date import DateDataParser  # late: loading its language data takes a second

    settings: Any = {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": datetime(today.year, today.month, today.day),
    }
    parsed = DateDataParser(languages=["nl", "en"], settings=settings).get_date_data(text)
    if parsed.date_obj is None or parsed.period != "day":
        return None
    return parsed.date_obj.date()
