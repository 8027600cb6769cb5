"""What every admin command shares: the ``--config`` option and the settings it names."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.app import configure_encryption
from config import Settings, load_settings

ConfigOption = Annotated[Path | None, typer.Option("--config", help="YAML settings file.")]


def admin_settings(config: Path | None) -> Settings:
    """The settings, with the encryption keys in place to read the database."""
    settings = load_settings(config)
    configure_encryption(settings)
    return settings
