"""The flow files: checked when loaded, and every path walked in both languages."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from config import TEXT_PLACEHOLDERS
from flows import FlowError, load_flows
from flows.loader import FLOWS_DIR
from flows.schema import FLOW_PREFIX
from tests.harness import FLOWS
from tests.walker import walk


def test_the_shipped_flows_load() -> None:
    assert set(FLOWS.flows) == {"menu", "incident", "onrust", "tips", "contact", "checkin",
                                "checkin_lasting"}


def _broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    directory = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, directory, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = directory / file
    content = path.read_text(encoding="utf-8")
    assert old in content
    path.write_text(content.replace(old, new, 1), encoding="utf-8")
    return directory


@pytest.mark.parametrize(
    ("file", "old", "new", "error"),
    [
        ("incident.yaml", "next: description", "next: nowhere", "unknown step 'nowhere'"),
        ("incident.yaml", "next: \"flow:menu\"", "next: \"flow:gone\"", "unknown flow"),
        ("incident.yaml", '      en: "What is your role?"\n', "", "en"),
        ("incident.yaml", '      nl: "Wat is uw functie?"\n', '      nl: "  "\n', "empty"),
        ("tips.yaml", "next: tip_online", "next: tip_safety", "can never be reached"),
        ("menu.yaml", "words: [praten, gesprek, talk, someone, iemand]", "words: [stop]",
         "also a command word"),
        ("menu.yaml", "words: [praten, gesprek, talk, someone, iemand]", "words: [melden]",
         "fits options"),
        ("incident.yaml", "Bel het Ondersteuningsteam: {support_team_number}",
         "Bel {support_number}", "unknown placeholder"),
        ("onrust.yaml", "options: yes_no_unknown\n    next: driehoek",
         "options: maybe\n    next: driehoek", "unknown option set"),
        ("tips.yaml", "        next: \"flow:menu\"", "        next: topics",
         "no way to an end"),
    ],
)
def test_a_broken_flow_is_refused_with_a_clear_reason(
        tmp_path: Path, file: str, old: str, new: str, error: str) -> None:
    directory = _broken_copy(tmp_path, file, old, new)
    with pytest.raises(FlowError, match=re.escape(error)):
        load_flows(directory, placeholders=TEXT_PLACEHOLDERS)


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("flow", ["menu", "incident", "onrust", "tips", "contact"])
def test_every_path_of_every_flow_ends_well(flow: str, language: str) -> None:
    paths, seen, edges = walk(flow, language)
    steps = FLOWS.flows[flow].steps
    assert seen | {n for n, s in steps.items() if s.type == "info"} == set(steps)
    for name, step in steps.items():
        for option in step.option_list:
            if step.type != "correct":
                assert (name, option.id) in edges, f"{flow}.{name}:{option.id} never taken"
    assert paths >= 1


def test_every_flow_switch_lands_on_a_flow_start() -> None:
    for flow in FLOWS.flows.values():
        for step in flow.steps.values():
            for option in step.option_list:
                target = option.next or step.next or ""
                if target.startswith(FLOW_PREFIX):
                    assert target.removeprefix(FLOW_PREFIX) in FLOWS.flows
