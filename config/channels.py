"""The chat platforms the bot runs on, one entry each: what the settings, the experts file and
the start-up need to know of a channel. The adapter itself (``bot/adapters/``) knows only its
platform; ``factory`` names the function that builds it from the settings, imported only when
the channel runs (so a platform's library is not loaded for nothing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from config.channel_settings import ConsoleSettings, MatrixSettings, TelegramSettings

Own = TypeVar("Own", bound=BaseModel)


@dataclass(frozen=True)
class ChannelKind(Generic[Own]):
    """One platform. ``settings``: its own settings (a model the full settings include);
    ``configured``: whether they give what it needs, so it runs when ``WEERBAAR_CHANNELS`` is
    not set; ``check_settings``: the problem with them when it is enabled, if any;
    ``check_address``: the problem with an expert's address on it (the part after ``name:``),
    if any; ``credentials``: what an operator checks when the platform refuses to start;
    ``trusted``: the operator's own terminal, without flood limit."""

    name: str
    settings: type[Own]
    factory: str
    address_form: str
    configured: Callable[[Own], bool]
    check_settings: Callable[[Own], str | None]
    check_address: Callable[[str], str | None]
    credentials: str = "its settings"
    trusted: bool = False

    def own_settings(self, settings: BaseModel) -> Own:
        """This channel's part of the full settings."""
        return self.settings.model_validate(
            settings.model_dump(include=set(self.settings.model_fields)))

    def is_configured(self, settings: BaseModel) -> bool:
        return self.configured(self.own_settings(settings))

    def problem(self, settings: BaseModel) -> str | None:
        return self.check_settings(self.own_settings(settings))


def _console_address(ident: str) -> str | None:
    return None


def _telegram_address(ident: str) -> str | None:
    return None if ident.lstrip("-").isdigit() else "a Telegram address is the numeric user id"


def _matrix_address(ident: str) -> str | None:
    if ident.startswith("@") and ":" in ident:
        return None
    return "a Matrix address is a user id like @anna:example.org"


def _telegram_settings(settings: TelegramSettings) -> str | None:
    if settings.telegram_token is None:
        return "the telegram channel needs telegram_token (WEERBAAR_TELEGRAM_TOKEN)"
    return None


def _matrix_settings(settings: MatrixSettings) -> str | None:
    if not (settings.matrix_homeserver and settings.matrix_user_id):
        return "the matrix channel needs matrix_homeserver and matrix_user_id"
    if settings.matrix_password is None and settings.matrix_access_token is None:
        return "the matrix channel needs matrix_password or matrix_access_token"
    return None


CHANNELS: dict[str, ChannelKind[Any]] = {kind.name: kind for kind in (
    ChannelKind(
        name="console", settings=ConsoleSettings, factory="bot.channel_setup:console_channel",
        address_form="console:<name>",
        configured=lambda own: True,
        check_settings=lambda own: None,
        check_address=_console_address, trusted=True),
    ChannelKind(
        name="telegram", settings=TelegramSettings,
        factory="bot.channel_setup:telegram_channel",
        address_form="telegram:<id>",
        configured=lambda own: own.telegram_token is not None,
        check_settings=_telegram_settings, check_address=_telegram_address,
        credentials="WEERBAAR_TELEGRAM_TOKEN"),
    ChannelKind(
        name="matrix", settings=MatrixSettings, factory="bot.channel_setup:matrix_channel",
        address_form="matrix:<@user:server>",
        configured=lambda own: bool(own.matrix_homeserver and own.matrix_user_id),
        check_settings=_matrix_settings, check_address=_matrix_address,
        credentials="WEERBAAR_MATRIX_USER_ID and WEERBAAR_MATRIX_PASSWORD or "
                    "WEERBAAR_MATRIX_ACCESS_TOKEN"),
)}
"""Every channel, in the order the bot starts them by default."""

TRUSTED_CHANNELS = frozenset(name for name, kind in CHANNELS.items() if kind.trusted)
