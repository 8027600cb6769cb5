"""Start weerbaar-bot. With no configuration: the console channel and a SQLite file in ./data/."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from bot.app import run
from bot.channel import ChannelStartError
from bot.logging_setup import configure_logging
from bot.logsafe import describe as describe_error
from config.experts import RosterError
from config.settings import ConfigFileError, load_settings
from flows import FlowError
from storage.crypto import EncryptionKeyError


def describe(error: ValidationError) -> str:
    """Each problem with where it is, never the values given (they may hold secrets)."""
    lines = []
    for problem in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "settings"
        lines.append(f"  {where}: {problem['msg']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, default=None,
                        help="YAML settings file (default: $WEERBAAR_CONFIG, else none)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigFileError as exc:
        print(f"weerbaar-bot: invalid configuration: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"weerbaar-bot: invalid configuration:\n{describe(exc)}", file=sys.stderr)
        return 2
    configure_logging(settings)
    try:
        return asyncio.run(run(settings))
    except FlowError as exc:
        print(f"weerbaar-bot: invalid flow: {exc}", file=sys.stderr)
        return 2
    except RosterError as exc:
        print(f"weerbaar-bot: invalid experts file: {exc}", file=sys.stderr)
        return 2
    except (EncryptionKeyError, ChannelStartError) as exc:
        print(f"weerbaar-bot: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # Not printed as a traceback: its message may hold a secret or a person's words.
        logging.getLogger("run_bot").critical("bot.crashed error=%s", describe_error(exc))
        print(f"weerbaar-bot: stopped by an error ({type(exc).__name__}); see the log",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
