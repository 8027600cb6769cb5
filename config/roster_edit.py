"""Changing the on-call overrides in the experts file, checked as the file is on load: for the
command line and the coordinators' web desk. The running bot takes the changed file as it takes
any edit of it (see :mod:`bot.roster_watch`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from config.experts import Override, Roster, RosterError, load_roster, save_roster


def _problems(exc: ValidationError) -> str:
    return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())


def add_override(path: Path, override: Override) -> Roster:
    """Add ``override`` to the file; :class:`RosterError` says why the result is refused."""
    roster = load_roster(path)
    data = roster.model_dump()
    data["on_call"]["overrides"] = [*data["on_call"]["overrides"], override.model_dump()]
    return _save(path, data)


class OverrideGone(RosterError):
    """The override to remove is no longer (at that place) in the experts file."""


def override_key(override: Override) -> str:
    """What names one override, so a removal asked from an older page removes that one."""
    return f"{override.specialty}|{override.start.isoformat()}|{override.end.isoformat()}"


def remove_override(path: Path, index: int, key: str | None = None) -> Roster:
    """Remove the ``index``-th override; with ``key``, only if it is still that one (someone
    may have changed the file since the page was shown)."""
    roster = load_roster(path)
    data = roster.model_dump()
    overrides = list(data["on_call"]["overrides"])
    if not 0 <= index < len(overrides) or (
            key is not None and override_key(roster.on_call.overrides[index]) != key):
        raise OverrideGone("that override is no longer in the experts file")
    del overrides[index]
    data["on_call"]["overrides"] = overrides
    return _save(path, data)


def _save(path: Path, data: dict[str, object]) -> Roster:
    try:
        roster = Roster.model_validate(data)
    except ValidationError as exc:
        raise RosterError(_problems(exc)) from None
    save_roster(path, roster)
    return roster


def parse_override(specialty: str, start: str, end: str, experts: list[str]) -> Override:
    """An override from a form's fields; :class:`RosterError` says what is wrong."""
    try:
        return Override.model_validate({"specialty": specialty, "start": start, "end": end,
                                        "experts": experts})
    except ValidationError as exc:
        raise RosterError(_problems(exc)) from None
