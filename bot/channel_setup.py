"""Building each channel's adapter from the settings: the factories that the entries of
``config.channels`` name. A platform's library is imported only when its channel runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.channel import Channel
from bot.metrics import Metrics
from config import Settings
from config.channel_settings import ConsoleSettings, MatrixSettings, TelegramSettings
from flows import FlowSet

if TYPE_CHECKING:
    from bot.adapters.sms import SmsChannel

ChannelFactory = Callable[[Any, Settings, FlowSet, Metrics], Channel]
"""(the channel's own settings, all settings, the flows, the metrics) -> its adapter."""


def console_channel(own: ConsoleSettings, common: Settings, flows: FlowSet,
                    metrics: Metrics) -> Channel:
    from bot.adapters.console import ConsoleChannel

    return ConsoleChannel(user=own.console_user)


def matrix_channel(own: MatrixSettings, common: Settings, flows: FlowSet,
                   metrics: Metrics) -> Channel:
    from bot.adapters.matrix import MatrixChannel

    assert own.matrix_homeserver is not None and own.matrix_user_id is not None
    password, token = own.matrix_password, own.matrix_access_token
    return MatrixChannel(own.matrix_homeserver, own.matrix_user_id,
                         common.data_dir / "matrix",
                         password=password.get_secret_value() if password else None,
                         access_token=token.get_secret_value() if token else None,
                         device_name=own.matrix_device_name,
                         encryption=own.matrix_encryption)


def telegram_channel(settings: TelegramSettings, common: Settings, flows: FlowSet,
                     metrics: Metrics) -> Channel:
    from bot.adapters.telegram import TelegramChannel, Webhook

    assert settings.telegram_token is not None
    webhook = None
    if settings.telegram_webhook_url:
        secret = settings.telegram_webhook_secret
        assert secret is not None, "the settings refuse a webhook without a secret"
        webhook = Webhook(url=settings.telegram_webhook_url,
                          listen=settings.telegram_webhook_listen,
                          port=settings.telegram_webhook_port,
                          secret=secret.get_secret_value())
    menus = {str(language): [(c.command, c.description) for c in commands]
             for language, commands in flows.system.command_menu.items()}
    return TelegramChannel(settings.telegram_token.get_secret_value(),
                           base_url=settings.telegram_base_url,
                           base_file_url=settings.telegram_base_file_url,
                           poll_timeout=settings.telegram_poll_timeout_seconds,
                           webhook=webhook, menus=menus,
                           on_unreadable=metrics.unreadable_updates.labels("telegram").inc)


def sms_pager(settings: Settings, metrics: Metrics) -> SmsChannel | None:
    """The pager, when an SMS provider is configured (see :mod:`bot.paging`)."""
    from bot.adapters.sms import SmsChannel, TwilioProvider

    if settings.sms_provider is None:
        return None
    assert settings.sms_account and settings.sms_token and settings.sms_from
    provider = TwilioProvider(settings.sms_account, settings.sms_token.get_secret_value(),
                              settings.sms_from, base_url=settings.sms_base_url)
    return SmsChannel(provider, on_result=lambda result: metrics.pages.labels(result).inc())
