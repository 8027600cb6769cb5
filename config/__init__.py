"""Settings of weerbaar-bot: defaults, a YAML file, and WEERBAAR_* environment variables."""

from config.settings import TEXT_PLACEHOLDERS, Facts, Settings, load_settings, text_facts

__all__ = ["TEXT_PLACEHOLDERS", "Facts", "Settings", "load_settings", "text_facts"]
