"""The expert's commands come from one table (bot/expert_commands.py), the person's from another
(bot/person_commands.py): the expert's help lists each command in the expert's language, and a
flow file whose commands do not fit its table is refused at start."""

from __future__ import annotations

import dataclasses

import pytest

from bot.expert_commands import EXPERT_COMMANDS
from bot.experts import ExpertDesk
from bot.routing import Router, RoutingSettings
from config.experts import Roster
from flows.loader import FlowError
from tests.harness import FACTS, FLOWS, texts
from tests.routing_support import roster_data, routed_bot


def _router(commands: dict[str, tuple[str, ...]] | None = None) -> Router:
    data = roster_data()
    data["experts"][1]["languages"] = ["en"]  # bert reads English
    flows = FLOWS
    if commands is not None:
        routing = FLOWS.routing.model_copy(update={"commands": commands})
        flows = dataclasses.replace(FLOWS, routing=routing)
    return Router(Roster.model_validate(data), flows, FACTS, RoutingSettings())


async def test_the_help_names_every_command_in_the_experts_language(sqlite_url: str) -> None:
    async with routed_bot(sqlite_url, router=_router()) as bot:
        help_nl = texts(await bot.say("hulp", who="anna"))
        help_en = texts(await bot.say("help", who="bert"))
    assert help_nl.startswith("Commando's (het nummer is het zaaknummer):")
    assert help_nl.endswith("Andere tekst gaat naar de persoon van uw huidige zaak.")
    assert help_en.startswith("Commands (the number is the case number):")
    assert help_en.endswith("Other text goes to the person of your current case.")
    for command in EXPERT_COMMANDS:
        line = FLOWS.routing.texts[f"expert_help_{command}"]
        assert f"\n• {line.nl.split(' ')[0]}" in help_nl, command
        assert f"\n• {line.en.split(' ')[0]}" in help_en, command
    assert "• sluit 12 <uitkomst>: zaak sluiten (advies, doorverwezen, " in help_nl
    assert "• close 12 <outcome>: close the case (" in help_en
    assert "• aannemen 12: een gevraagde zaak aannemen" in help_nl


async def test_a_command_without_its_case_number_gets_the_help(sqlite_url: str) -> None:
    async with routed_bot(sqlite_url, router=_router()) as bot:
        replies = texts(await bot.say("sluit", who="anna"))
    assert replies.startswith("Commando's") and "• zaken: uw open zaken" in replies


def test_a_routing_file_without_a_command_of_the_table_is_refused() -> None:
    commands = {k: v for k, v in FLOWS.routing.commands.items() if k != "verify"}
    with pytest.raises(FlowError, match=r"missing commands \['verify'\]"):
        ExpertDesk(_router(commands))


def test_a_command_the_table_does_not_know_is_refused() -> None:
    commands = {**FLOWS.routing.commands, "dance": ("dans", "dance")}
    with pytest.raises(FlowError, match=r"commands \['dance'\] are not in"):
        ExpertDesk(_router(commands))


def test_a_system_file_whose_commands_do_not_fit_the_persons_table_is_refused() -> None:
    from bot.conversation import ConversationLogic

    without_back = {k: v for k, v in FLOWS.system.commands.items() if k != "back"}
    for commands, problem in ((without_back, r"missing commands \['back'\]"),
                              ({**FLOWS.system.commands, "sing": ("zing",)},
                               r"commands \['sing'\] are not in bot/person_commands.py")):
        system = FLOWS.system.model_copy(update={"commands": commands})
        with pytest.raises(FlowError, match=problem):
            ConversationLogic(dataclasses.replace(FLOWS, system=system), FACTS)


def test_the_persons_help_has_a_line_for_each_command_that_says_it_has_one() -> None:
    from bot.conversation import ConversationLogic
    from bot.person_commands import PERSON_COMMANDS

    logic = ConversationLogic(FLOWS, FACTS)
    for language in ("nl", "en"):
        help_text = logic.help_text(language)
        assert help_text.startswith(FLOWS.text("help").get(language).format_map(FACTS))
        for name, command in PERSON_COMMANDS.items():
            line = FLOWS.text(f"help_{name}").get(language) if command.in_help else None
            if line is not None:
                assert f"\n• {line.split('{')[0]}" in help_text, (language, name)
    assert "\n• verwijder: al uw gegevens wissen\n\nU kunt antwoorden" in logic.help_text("nl")


def test_a_help_line_that_does_not_begin_with_its_word_is_refused() -> None:
    from bot.conversation import ConversationLogic

    texts = {**FLOWS.system.texts,
             "help_back": FLOWS.text("help_back").model_copy(update={"en": "go: back"})}
    system = FLOWS.system.model_copy(update={"texts": texts})
    with pytest.raises(FlowError, match="the en help line of 'back'"):
        ConversationLogic(dataclasses.replace(FLOWS, system=system), FACTS)
