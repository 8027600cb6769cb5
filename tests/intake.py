"""The canonical intake script (:mod:`tests.intake_script`) with the tests' logic, and the
intakes most tests walk."""

from __future__ import annotations

from collections.abc import Mapping

from tests.harness import make_logic
from tests.intake_script import INCIDENT, INCIDENT_FOR_AFTERCARE
from tests.intake_script import intake as intake_with

LOGIC = make_logic()


def intake(flow: str = "incident", answers: Mapping[str, str] | None = None, *,
           until: str = "done", language: str = "nl", first: str = "hallo") -> list[str]:
    """See :func:`tests.intake_script.intake`."""
    return intake_with(LOGIC, flow, answers, until=until, language=language, first=first)


INCIDENT_SUBMITTED = intake("incident", INCIDENT)
"""The incident to its confirmation: a case asking for legal help."""

INCIDENT_TO_SUMMARY = intake("incident", INCIDENT_FOR_AFTERCARE, until="summary")
"""An incident to its summary, not yet confirmed: legal help and aftercare."""


def incident_until(step: str) -> list[str]:
    """:data:`INCIDENT_TO_SUMMARY` up to the question ``step`` (not answered)."""
    return intake("incident", INCIDENT_FOR_AFTERCARE, until=step)


__all__ = ["INCIDENT", "INCIDENT_SUBMITTED", "INCIDENT_TO_SUMMARY", "LOGIC", "incident_until",
           "intake"]
