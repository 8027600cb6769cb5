"""Checking typed phone numbers, e-mail addresses and dates with well-kept libraries."""

from __future__ import annotations

from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from bot.understanding.dates import understand_date

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
    """A day named in Dutch or English ("15-03-2027", "15 maart", "vrijdag", "volgende week
    donderdag", "over twee weken"); a month or a year alone is not a day, so it is refused
    rather than guessed (:func:`bot.understanding.dates.understand_date` says which month)."""
    return understand_date(text, today).day
