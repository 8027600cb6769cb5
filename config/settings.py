"""Settings: defaults < YAML file (``--config``/``WEERBAAR_CONFIG``) < ``WEERBAAR_*`` environment.

Nested settings use ``__`` in the environment, e.g. ``WEERBAAR_FACTS__POLICE_NUMBER``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from config.channel_settings import ConsoleSettings, MatrixSettings, TelegramSettings
from config.channels import CHANNELS
from config.cluster_settings import ClusterSettings

Language = Literal["nl", "en"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS_AND_SATURDAY: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat")


class Facts(BaseModel):
    """Numbers and addresses the bot states. An operator must confirm them before going live."""

    emergency_number: str = "112"
    police_number: str = "0900-8844"
    police_callback_hours: str = "08:00–22:00"
    victim_support_number: str = "0900-0101"
    suicide_prevention_number: str = "113"
    suicide_prevention_free_number: str = "0800-0113"
    suicide_prevention_chat: str = "113.nl"
    anonymous_tip_number: str = "0800-7000"
    support_team_number: str = "070-373 83 14"
    unrest_network_email: str = "omo@minbzk.nl"


# Placeholders texts may use besides the facts: the retention period in words, per language.
RETENTION_PLACEHOLDERS = ("retention_nl", "retention_en")
TEXT_PLACEHOLDERS: tuple[str, ...] = (*Facts.model_fields, *RETENTION_PLACEHOLDERS,
                                      "quick_exit_nl", "quick_exit_en")
DEFAULT_QUICK_EXIT_WORDS = ("weg",)


def text_facts(facts: Facts, retention_days: int,
               quick_exit_words: Sequence[str] = DEFAULT_QUICK_EXIT_WORDS) -> dict[str, str]:
    """What the bot's texts fill in: the facts, how long data is kept (``retention_days``,
    0 meaning the nightly purge is off), so the privacy text states the configured period,
    and the quick exit word."""
    if retention_days:
        retention = {
            "retention_nl": f"Is uw zaak afgesloten? Dan wissen wij uw gegevens "
                            f"{retention_days} dagen na het laatste contact.",
            "retention_en": f"Once your case is closed, we delete your data {retention_days} "
                            "days after the last contact.",
        }
    else:
        retention = {
            "retention_nl": "Wij wissen uw gegevens niet vanzelf.",
            "retention_en": "We do not delete your data by ourselves.",
        }
    quick_exit = {"quick_exit_nl": "", "quick_exit_en": ""}
    if quick_exit_words:
        word = quick_exit_words[0]
        quick_exit = {"quick_exit_nl": f"\n• {word}: de chat meteen wissen, zonder vraag",
                      "quick_exit_en": f"\n• {word}: wipe the chat at once, without a question"}
    return {**facts.model_dump(), **retention, **quick_exit}


class CheckinStep(BaseModel):
    """One check-in of a plan: ``after`` the case was submitted ("1d", "14d", "2h", "30s"),
    or around the key date the person gave ("key-1d", "key+1d"). ``lasting``: also ask about
    lasting complaints (sleep, worry, avoidance), as at about six weeks."""

    model_config = {"extra": "forbid", "frozen": True}

    after: str = Field(pattern=r"^(key[+-])?\d+(\.\d+)?[smhd]$")
    lasting: bool = False


def _default_plans() -> dict[str, list[CheckinStep]]:
    return {
        "incident": [CheckinStep(after="1d"), CheckinStep(after="14d"),
                     CheckinStep(after="42d", lasting=True), CheckinStep(after="90d")],
        "onrust": [CheckinStep(after="key-1d"), CheckinStep(after="key+1d")],
    }


class Settings(BaseSettings, ConsoleSettings, TelegramSettings, MatrixSettings, ClusterSettings):
    """Every setting. Each channel's own are a sub-model (:mod:`config.channel_settings`) that
    the channel's entry in :mod:`config.channels` names; the names stay flat
    (``WEERBAAR_TELEGRAM_TOKEN``)."""

    model_config = SettingsConfigDict(
        env_prefix="WEERBAAR_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    data_dir: Path = Field(default=Path("data"), description="Where the bot keeps its files.")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means a SQLite file weerbaar.db in data_dir.",
    )
    channels: Annotated[list[str] | None, NoDecode] = Field(
        default=None,
        description="Enabled channels, comma-separated in the environment. Not set: the "
                    "console, plus Telegram and Matrix when their settings are given.",
    )
    default_language: Language = "nl"
    auto_migrate: bool = Field(default=True, description="Upgrade the database schema at start.")
    retention_days: int = Field(
        default=365, ge=0,
        description="Finished cases and inactive people are deleted after this many days "
                    "(a nightly job); 0: never. Anonymous counts are kept.")
    batch_max_turns: int = Field(default=256, ge=1, le=10_000)
    flood_limit: str = Field(
        default="20/10 seconds",
        description="Most messages one person may send in a moving window; past it, messages "
                    "are not handled and the person gets one calm notice. Empty: no limit.")
    delivery_max_backoff_seconds: float = Field(default=60.0, gt=0)
    health_port: int | None = Field(
        default=None, ge=1, le=65535,
        description="Port of the HTTP endpoint with /healthz and /metrics; none: off.")
    health_listen: str = Field(default="127.0.0.1", description="Address it binds to.")
    desk_port: int | None = Field(
        default=None, ge=1, le=65535,
        description="Serve the coordinators' web desk (queue, rota, statistics) and the "
                    "experts' calendar feeds on this port; none: off.")
    desk_listen: str = Field(default="127.0.0.1", description="Address the desk binds to.")
    desk_url: str | None = Field(
        default=None,
        description="The desk's address as coordinators reach it (behind a TLS proxy: "
                    "https://...); default: http://<desk_listen>:<desk_port>.")
    desk_secret: SecretStr | None = Field(
        default=None,
        description="Signs the desk's cookies and the calendar feed addresses (at least 32 "
                    "characters); required with the desk. Changing it signs everyone out and "
                    "withdraws every feed address.")
    desk_session_hours: float = Field(default=8, gt=0, le=24 * 7,
                                      description="How long a desk sign-in lasts.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text", description="Readable lines, or one JSON object a line.")
    log_file: Path | None = Field(
        default=None,
        description="Log file; none means stderr, or data_dir/weerbaar.log when chatting on "
                    "the console in a terminal, so logs do not run through the chat.",
    )
    facts: Facts = Field(default_factory=Facts)

    experts_file: Path | None = Field(
        default=None,
        description="YAML file with the experts and the on-call shifts; none: no experts, "
                    "cases wait in the database (weerbaar cases list).")
    experts_reload_seconds: float = Field(
        default=10, ge=0,
        description="How often the running bot looks whether the experts file changed, and "
                    "then uses it without a restart; 0: only on SIGHUP.")
    escalation_urgent_seconds: float = Field(
        default=300, gt=0,
        description="An urgent case goes on to the next expert when nobody accepted it in "
                    "this time.")
    escalation_high_seconds: float = Field(
        default=900, gt=0,
        description="The same for a case of urgency level 'hoog' (see flows/triage.yaml).")
    escalation_seconds: float = Field(
        default=1800, gt=0, description="The same for a case of level 'normaal'.")
    first_contact_seconds: float = Field(
        default=3600, ge=0,
        description="An expert who took a case but wrote nothing to the person (nor a note, "
                    "for a call or a mail) in this time is reminded; after this time again, "
                    "the coordinators on call and the person are told. 0: off.")
    urgent_ask_count: int = Field(
        default=3, ge=1, le=20, description="How many experts an urgent case asks at once.")
    high_ask_count: int = Field(
        default=2, ge=1, le=20,
        description="How many experts a case of level 'hoog' asks at once.")

    checkin_plans: dict[str, list[CheckinStep]] = Field(
        default_factory=_default_plans,
        description="Per case kind, when the bot checks in after a case is submitted.")
    checkin_hours: str = Field(
        default="09:00-20:00", pattern=r"^\d\d:\d\d-\d\d:\d\d$",
        description="Check-ins are only sent within these hours (Europe/Amsterdam).")
    checkin_days: Annotated[list[Day], NoDecode] = Field(
        default_factory=lambda: list(WEEKDAYS_AND_SATURDAY),
        description="... and on these days.")
    checkin_grace_seconds: float = Field(
        default=3 * 24 * 3600, ge=0,
        description="A check-in that fell due while the bot was down is still sent this long "
                    "after; later, it is skipped.")
    checkin_rate_per_second: float = Field(
        default=10, gt=0,
        description="At most this many check-ins are sent per second. Each is two messages; "
                    "Telegram allows about 30 messages a second to different people.")

    encryption_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Fernet keys, the current one first; comma-separated in the environment.")
    encryption_key_file: Path | None = Field(
        default=None,
        description="File with the keys, one a line, the current one first. Default: "
                    "data_dir/encryption.key, made on first start if no key is given.")

    sms_provider: Literal["twilio"] | None = Field(
        default=None,
        description="Pages silent experts of urgent cases by SMS through this provider "
                    "(experts need a pager number in the experts file); none: no paging.")
    sms_account: str | None = Field(default=None, description="The provider's account id "
                                    "(Twilio: the Account SID).")
    sms_token: SecretStr | None = Field(default=None, description="The provider's secret "
                                        "(Twilio: the Auth Token).")
    sms_from: str | None = Field(default=None, description="The sender: a number of the "
                                 "account (+3197...) or a name of up to 11 letters.")
    sms_base_url: str = Field(default="https://api.twilio.com",
                              description="The provider's API address (a gateway or test "
                                          "double speaking the same API).")

    quick_exit_words: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_QUICK_EXIT_WORDS),
        description="A message of only one of these words wipes the chat from the person's "
                    "device at once, without a question (comma-separated); empty: off.")

    @field_validator("checkin_days", mode="before")
    @classmethod
    def _split_days(cls, value: Any) -> Any:
        """Comma-separated in the environment: WEERBAAR_CHECKIN_DAYS=mon,tue,wed."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("checkin_hours")
    @classmethod
    def _valid_hours(cls, value: str) -> str:
        from config.sending_hours import SendingHours

        SendingHours.parse(value, [])
        return value

    @field_validator("channels", "encryption_keys", "quick_exit_words", "roles",
                     mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        """Lists in the environment are comma-separated."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("flood_limit")
    @classmethod
    def _valid_limit(cls, value: str) -> str:
        from limits import parse

        if value:
            parse(value)
        return value

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        unknown = sorted(set(value) - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel(s) {unknown}; known: {list(CHANNELS)}")
        if not value:
            raise ValueError("at least one channel must be enabled")
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'weerbaar.db'}"
        return self

    def text_facts(self) -> dict[str, str]:
        return text_facts(self.facts, self.retention_days, self.quick_exit_words)

    @property
    def desk_address(self) -> str | None:
        """Where coordinators reach the desk, if it is on."""
        if self.desk_port is None:
            return None
        return self.desk_url or f"http://{self.desk_listen}:{self.desk_port}"

    @property
    def enabled_channels(self) -> list[str]:
        """The channels to run: as set, or the console plus every channel that is configured."""
        if self.channels is not None:
            return self.channels
        return [name for name, kind in CHANNELS.items() if kind.is_configured(self)]

    @model_validator(mode="after")
    def _channel_settings(self) -> Settings:
        for name in self.enabled_channels:
            problem = CHANNELS[name].problem(self)
            if problem:
                raise ValueError(problem)
        if self.desk_port is not None:
            desk_secret = self.desk_secret.get_secret_value() if self.desk_secret else ""
            if len(desk_secret) < 32:
                raise ValueError(
                    "the web desk needs desk_secret (WEERBAAR_DESK_SECRET) of at least 32 "
                    "characters; make one with: python3 -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))'")
        if self.replicated:
            self._check_replica()
        if self.sms_provider and not (self.sms_account and self.sms_token and self.sms_from):
            raise ValueError("paging by SMS needs sms_account, sms_token and sms_from "
                             "(WEERBAAR_SMS_ACCOUNT, WEERBAAR_SMS_TOKEN, WEERBAAR_SMS_FROM)")
        return self

    def _check_replica(self) -> None:
        """Several replicas share the work through PostgreSQL; what only one process can do
        (read the console, poll Telegram) is refused with what to do instead."""
        if not self.database_url.startswith("postgresql"):
            raise ValueError("roles (WEERBAAR_ROLES) need PostgreSQL: set database_url "
                             "(WEERBAAR_DATABASE_URL) to postgresql+psycopg://...")
        channels = self.enabled_channels
        if "console" in channels:
            raise ValueError("the console is for one process on one terminal; with roles "
                             "(WEERBAAR_ROLES) set WEERBAAR_CHANNELS to telegram and/or matrix")
        if "telegram" in channels and not self.telegram_webhook_url:
            raise ValueError("Telegram polling works for one process only (two would take "
                             "each other's updates); with roles (WEERBAAR_ROLES) set "
                             "telegram_webhook_url (WEERBAAR_TELEGRAM_WEBHOOK_URL) and run "
                             "the ingress role behind it")
        if "matrix" in self.roles and "matrix" not in channels:
            raise ValueError("the matrix role needs the Matrix channel (WEERBAAR_CHANNELS)")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("yaml_file"):
            sources.append(YamlConfigSettingsSource(settings_cls))
        return tuple(sources)


class ConfigFileError(Exception):
    """The configuration file named by the operator cannot be used."""


class UnknownSettingError(ConfigFileError):
    """A ``WEERBAAR_*`` variable that is no setting: most likely a typo, which would otherwise
    be ignored silently (a misspelt key variable would make the bot use a key of its own)."""


ENV_PREFIX = "WEERBAAR_"
OTHER_VARIABLES = frozenset({"WEERBAAR_CONFIG", "WEERBAAR_TEST_POSTGRES_URL"})
"""Variables that are not settings of the bot but are read: the settings file, and the
PostgreSQL server the test suite uses."""


def environment_names() -> tuple[set[str], tuple[str, ...]]:
    """Every ``WEERBAAR_*`` name the settings read, and prefixes under which any name is a
    key of a mapping setting (``WEERBAAR_CHECKIN_PLANS__INCIDENT``)."""
    names, prefixes = set(OTHER_VARIABLES), []
    for field, info in Settings.model_fields.items():
        name = f"{ENV_PREFIX}{field.upper()}"
        names.add(name)
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.update(f"{name}__{sub.upper()}" for sub in annotation.model_fields)
        elif getattr(annotation, "__origin__", None) is dict:
            prefixes.append(f"{name}__")
    return names, tuple(prefixes)


def check_environment(environ: Mapping[str, str]) -> None:
    """Refuse ``WEERBAAR_*`` variables that are no setting, with the nearest real name."""
    known, prefixes = environment_names()
    for variable in sorted(environ):
        name = variable.upper()
        if not name.startswith(ENV_PREFIX) or name in known or name.startswith(prefixes):
            continue
        nearest = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        hint = f" (did you mean {nearest[0]}?)" if nearest else ""
        raise UnknownSettingError(f"unknown setting {variable}{hint}; the settings are listed "
                                  "in README.md and config/example.yaml")


def load_settings(config_file: Path | None = None) -> Settings:
    """Load settings; ``config_file`` falls back to ``WEERBAAR_CONFIG`` when not given.
    Unknown ``WEERBAAR_*`` variables are refused (:class:`UnknownSettingError`)."""
    check_environment(os.environ)
    if config_file is None and os.environ.get("WEERBAAR_CONFIG"):
        config_file = Path(os.environ["WEERBAAR_CONFIG"])
    if config_file is None:
        return Settings()
    if not config_file.is_file():
        raise ConfigFileError(f"configuration file not found: {config_file}")
    file_settings: type[Settings] = type(
        "FileSettings",
        (Settings,),
        {"model_config": SettingsConfigDict(**{**Settings.model_config, "yaml_file": config_file})},
    )
    return file_settings()
