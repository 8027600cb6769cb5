"""Each channel's own settings, as a model of its own: the channel's entry in
:mod:`config.channels` names it, its factory is built from it, and :class:`config.Settings`
takes its fields (so the names stay flat: ``telegram_token``, ``WEERBAAR_TELEGRAM_TOKEN``)."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, SecretStr, model_validator

_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ConsoleSettings(BaseModel):
    console_user: str = Field(default="console", description="Identity of the console user.")


class TelegramSettings(BaseModel):
    telegram_token: SecretStr | None = Field(default=None, description="From @BotFather.")
    telegram_base_url: str | None = Field(
        default=None, description="Bot API server, e.g. http://127.0.0.1:8081/bot (self-hosted).")
    telegram_base_file_url: str | None = Field(
        default=None, description="File URL of that server; default: derived from the base URL.")
    telegram_poll_timeout_seconds: int = Field(default=30, ge=0, le=50)
    telegram_webhook_url: str | None = Field(
        default=None, description="Public HTTPS URL; set it to use a webhook instead of polling.")
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Secret token Telegram sends with every webhook call (1-256 of A-Z, a-z, "
                    "0-9, _ and -); required with a webhook.")

    @model_validator(mode="after")
    def _webhook_secret(self) -> TelegramSettings:
        if self.telegram_webhook_url:
            secret = self.telegram_webhook_secret
            if secret is None or not secret.get_secret_value():
                raise ValueError(
                    "a webhook needs telegram_webhook_secret (WEERBAAR_TELEGRAM_WEBHOOK_SECRET), "
                    "or anyone could send the bot forged messages; make one with: python3 -c "
                    "'import secrets; print(secrets.token_urlsafe(32))'")
            if not _WEBHOOK_SECRET.fullmatch(secret.get_secret_value()):
                raise ValueError("telegram_webhook_secret may only hold 1 to 256 of A-Z, a-z, "
                                 "0-9, _ and - (Telegram's rule)")
        return self


class MatrixSettings(BaseModel):
    matrix_homeserver: str | None = Field(default=None, description="e.g. https://matrix.org")
    matrix_user_id: str | None = Field(default=None, description="e.g. @weerbaar:example.org")
    matrix_password: SecretStr | None = None
    matrix_access_token: SecretStr | None = None
    matrix_device_name: str = "weerbaar-bot"
    matrix_encryption: bool = Field(default=True, description="End-to-end encryption.")
