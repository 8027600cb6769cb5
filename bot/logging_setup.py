"""Logging that never carries what a person wrote, nor a secret.

- The bot's own records (``bot``, ``storage``, ``config``, ``flows``) hold ids and events only,
  at the configured level.
- Libraries log requests with their parameters (python-telegram-bot and httpx at DEBUG:
  every message sent, and the token in every URL; nio and its store likewise). Their records
  below WARNING are dropped whatever the level, and from WARNING up only their unformatted
  message is kept, without the arguments (python-telegram-bot logs a batch of updates it cannot
  parse at CRITICAL, with the data).
- An exception is logged as its type and where it was raised (:func:`bot.logsafe.describe`),
  never its message, which can hold a statement's parameters or a piece of text.
- Every configured secret (tokens, passwords, keys, the database password) is replaced by
  ``[redacted]`` in whatever is written, as a last safeguard.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.engine import make_url

from bot.logsafe import describe
from config import Settings

OWN_LOGGERS = ("bot", "storage", "config", "flows", "run_bot", "__main__", "weerbaar")
REDACTED = "[redacted]"
_MIN_SECRET_LENGTH = 6  # shorter values would redact ordinary words


def log_destination(settings: Settings) -> Path | None:
    """Where logs go: the configured file; else a file in the data dir when a person chats on
    the console in a terminal; else stderr (``None``)."""
    if settings.log_file is not None:
        return settings.log_file
    if "console" in settings.enabled_channels and sys.stderr.isatty():
        return settings.data_dir / "weerbaar.log"
    return None


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value the settings hold."""
    values = [key.get_secret_value() for key in settings.encryption_keys]
    for secret in (settings.telegram_token, settings.telegram_webhook_secret,
                   settings.matrix_password, settings.matrix_access_token):
        if secret is not None:
            values.append(secret.get_secret_value())
    if settings.telegram_token is not None:  # its secret part alone, after the bot id
        values.append(settings.telegram_token.get_secret_value().partition(":")[2])
    password = make_url(settings.database_url).password
    if password:
        values.append(str(password))
    return [v for v in values if len(v) >= _MIN_SECRET_LENGTH]


def _is_own(name: str) -> bool:
    return name == "root" or any(name == own or name.startswith(own + ".")
                                 for own in OWN_LOGGERS)


class ContentGuard(logging.Filter):
    """Drops library records below WARNING; strips the arguments of the others and turns
    every exception into its type and place."""

    def filter(self, record: logging.LogRecord) -> bool:
        own = _is_own(record.name)
        if not own and record.levelno < logging.WARNING:
            return False
        if not own:
            record.msg, record.args = str(record.msg), ()
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()} error={describe(record.exc_info[1])}"
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


class RedactingFormatter(structlog.stdlib.ProcessorFormatter):
    """structlog's formatter, with every known secret taken out of the line."""

    def __init__(self, secrets: Iterable[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.secrets = sorted(set(secrets), key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        for secret in self.secrets:
            line = line.replace(secret, REDACTED)
        return line


def configure_logging(settings: Settings) -> None:
    """Send every record through the guard and the redacting formatter; structlog renders
    it as a readable line or, with ``log_format: json``, one JSON object a line."""
    destination = log_destination(settings)
    if destination is not None:
        destination.parent.mkdir(parents=True, exist_ok=True)
    renderer: Any = (structlog.processors.JSONRenderer() if settings.log_format == "json"
                     else structlog.dev.ConsoleRenderer(colors=False))
    formatter = RedactingFormatter(
        secrets_of(settings),
        foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name,
                           structlog.processors.TimeStamper(fmt="iso", utc=True)],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler: logging.Handler = (logging.FileHandler(destination, encoding="utf-8")
                                if destination is not None else logging.StreamHandler())
    handler.setFormatter(formatter)
    handler.addFilter(ContentGuard())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # Libraries need not even make their DEBUG and INFO records: they are dropped anyway.
    for name in logging.root.manager.loggerDict:
        if not _is_own(name.split(".")[0]):
            logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("telegram", "httpx", "httpcore", "nio", "peewee", "aiohttp", "asyncio",
                 "alembic", "sqlalchemy", "apscheduler", "urllib3", "matplotlib", "PIL"):
        logging.getLogger(name).setLevel(logging.WARNING)
