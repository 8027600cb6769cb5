"""Settings of weerbaar-bot: defaults, a YAML file, and WEERBAAR_* environment variables."""

from config.settings import Facts, Settings, load_settings

__all__ = ["Facts", "Settings", "load_settings"]
