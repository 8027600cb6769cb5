"""The bot's one time zone: shifts, check-in hours and dates the bot says are in Dutch wall-clock
time (so 09:00 stays 09:00 across daylight-saving changes)."""

from zoneinfo import ZoneInfo

TIMEZONE_NAME = "Europe/Amsterdam"
TIMEZONE = ZoneInfo(TIMEZONE_NAME)
