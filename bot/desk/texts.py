"""The desk's words (``texts.yaml``), in the coordinator's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from flows.schema import LANGUAGES

TEXTS_FILE = Path(__file__).parent / "texts.yaml"


class DeskTexts:
    def __init__(self, path: Path = TEXTS_FILE) -> None:
        raw: dict[str, dict[str, str]] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key, text in raw.items():
            missing = [language for language in LANGUAGES if not (text or {}).get(language)]
            if missing:
                raise ValueError(f"{path.name}: {key!r} has no text in {missing}")
        self._texts = raw

    def has(self, key: str) -> bool:
        return key in self._texts

    def __call__(self, key: str, language: str, **fields: Any) -> str:
        text = self._texts[key]["en" if language == "en" else "nl"]
        return text.format(**fields) if fields else text
