"""Settings: defaults, the YAML file, the environment, and that every one is documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from config import Facts, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("WEERBAAR_"):
            monkeypatch.delenv(key)


def test_defaults_need_no_configuration() -> None:
    settings = load_settings()
    assert settings.enabled_channels == ["console"]
    assert settings.database_url == "sqlite:///data/weerbaar.db"
    assert settings.facts.emergency_number == "112"
    assert settings.facts.support_team_number == "070-373 83 14"


def test_the_example_file_loads_and_equals_the_defaults() -> None:
    assert load_settings(ROOT / "config" / "example.yaml").model_dump() == Settings().model_dump()


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "s.yaml"
    config.write_text("log_level: DEBUG\nfacts:\n  police_number: '0900-1111'\n", "utf-8")
    monkeypatch.setenv("WEERBAAR_FACTS__POLICE_NUMBER", "0900-2222")
    monkeypatch.setenv("WEERBAAR_CHANNELS", "console")
    monkeypatch.setenv("WEERBAAR_DATABASE_URL", "postgresql+psycopg://x@127.0.0.1/y")
    settings = load_settings(config)
    assert settings.log_level == "DEBUG"
    assert settings.facts.police_number == "0900-2222"
    assert settings.database_url == "postgresql+psycopg://x@127.0.0.1/y"


def test_channels_follow_what_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEERBAAR_TELEGRAM_TOKEN", "123:abc")
    assert load_settings().enabled_channels == ["console", "telegram"]
    monkeypatch.setenv("WEERBAAR_MATRIX_HOMESERVER", "http://127.0.0.1:8008")
    monkeypatch.setenv("WEERBAAR_MATRIX_USER_ID", "@bot:localhost")
    monkeypatch.setenv("WEERBAAR_MATRIX_PASSWORD", "pw")
    assert load_settings().enabled_channels == ["console", "telegram", "matrix"]
    monkeypatch.setenv("WEERBAAR_CHANNELS", "matrix")
    assert load_settings().enabled_channels == ["matrix"], "an explicit list is kept"


def test_unknown_settings_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "s.yaml"
    config.write_text("databse_url: sqlite:///typo.db\n", "utf-8")
    with pytest.raises(ValidationError, match="databse_url"):
        load_settings(config)


def _names() -> list[str]:
    return [*Settings.model_fields, *(f"facts.{name}" for name in Facts.model_fields)]


@pytest.mark.parametrize("name", _names())
def test_every_setting_is_documented(name: str) -> None:
    example = (ROOT / "config" / "example.yaml").read_text("utf-8")
    readme = (ROOT / "README.md").read_text("utf-8")
    key = name.split(".")[-1]
    assert f"{key}:" in example, f"{name} is missing from config/example.yaml"
    env = "WEERBAAR_" + name.upper().replace(".", "__")
    assert env in readme, f"{env} is missing from README.md"


@pytest.mark.parametrize(("typed", "meant"), [
    ("WEERBAAR_ENCRYPTION_KEY", "WEERBAAR_ENCRYPTION_KEYS"),
    ("WEERBAAR_TELEGRAM_TOKN", "WEERBAAR_TELEGRAM_TOKEN"),
    ("weerbaar_retention_day", "WEERBAAR_RETENTION_DAYS"),
    ("WEERBAAR_FACTS__POLICE_NUMBR", "WEERBAAR_FACTS__POLICE_NUMBER"),
])
def test_a_misspelt_setting_is_refused_with_the_name_meant(
        monkeypatch: pytest.MonkeyPatch, typed: str, meant: str) -> None:
    from config.settings import UnknownSettingError

    monkeypatch.setenv(typed, "x")
    with pytest.raises(UnknownSettingError, match=f"did you mean {meant}"):
        load_settings()


def test_every_real_setting_and_nested_name_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEERBAAR_FACTS__POLICE_NUMBER", "0900-2222")
    monkeypatch.setenv("WEERBAAR_CHECKIN_PLANS", '{"incident": [{"after": "2d"}]}')
    monkeypatch.setenv("WEERBAAR_TEST_POSTGRES_URL", "postgresql+psycopg://x@127.0.0.1/test")
    assert load_settings().facts.police_number == "0900-2222"


def test_a_webhook_needs_a_secret_of_the_kind_telegram_accepts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEERBAAR_TELEGRAM_TOKEN", "1:abc")
    monkeypatch.setenv("WEERBAAR_TELEGRAM_WEBHOOK_URL", "https://bot.example.org/telegram")
    with pytest.raises(ValidationError, match="WEERBAAR_TELEGRAM_WEBHOOK_SECRET"):
        load_settings()
    monkeypatch.setenv("WEERBAAR_TELEGRAM_WEBHOOK_SECRET", "not allowed: spaces")
    with pytest.raises(ValidationError, match="Telegram's rule"):
        load_settings()
    monkeypatch.setenv("WEERBAAR_TELEGRAM_WEBHOOK_SECRET", "a-Good_s3cret")
    assert load_settings().telegram_webhook_secret is not None


def test_replicas_need_postgresql_and_a_webhook_and_refuse_the_console(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert not load_settings().replicated, "without roles: one process, as always"
    monkeypatch.setenv("WEERBAAR_ROLES", "worker, ingress")
    with pytest.raises(ValidationError, match="need PostgreSQL"):
        load_settings()
    monkeypatch.setenv("WEERBAAR_DATABASE_URL", "postgresql+psycopg://bot@db.internal/weerbaar")
    with pytest.raises(ValidationError, match="the console is for one process"):
        load_settings()
    monkeypatch.setenv("WEERBAAR_CHANNELS", "telegram")
    monkeypatch.setenv("WEERBAAR_TELEGRAM_TOKEN", "1:abc")
    with pytest.raises(ValidationError, match="Telegram polling works for one process only"):
        load_settings()
    monkeypatch.setenv("WEERBAAR_TELEGRAM_WEBHOOK_URL", "https://bot.example.org/telegram")
    monkeypatch.setenv("WEERBAAR_TELEGRAM_WEBHOOK_SECRET", "a-Good_s3cret")
    settings = load_settings()
    assert settings.replicated and settings.roles == ["ingress", "worker"]
    monkeypatch.setenv("WEERBAAR_ROLES", "matrix")
    with pytest.raises(ValidationError, match="the matrix role needs the Matrix channel"):
        load_settings()
    monkeypatch.setenv("WEERBAAR_ROLES", "worker,cook")
    with pytest.raises(ValidationError, match="roles"):
        load_settings()


def test_every_channel_entry_names_a_factory_that_builds_it() -> None:
    """config/channels.py is the one list of channels: each names a factory that exists, and
    the console (which needs no settings) is built by its own."""
    import pkgutil

    from bot.adapters.console import ConsoleChannel
    from bot.metrics import Metrics
    from config.channels import CHANNELS
    from tests.harness import FLOWS

    for kind in CHANNELS.values():
        assert callable(pkgutil.resolve_name(kind.factory)), kind.name
        # Its own settings are a part of the full settings: every field is one of theirs.
        assert set(kind.settings.model_fields) <= set(Settings.model_fields), kind.name
    settings = Settings(console_user="erin")
    console_kind = CHANNELS["console"]
    console = pkgutil.resolve_name(console_kind.factory)(
        console_kind.own_settings(settings), settings, FLOWS, Metrics())
    assert isinstance(console, ConsoleChannel)
    assert CHANNELS["telegram"].problem(settings) == \
        "the telegram channel needs telegram_token (WEERBAAR_TELEGRAM_TOKEN)"
