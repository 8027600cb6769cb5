"""Understanding typed answers: numbers, words, sentences, and when to ask again."""

from __future__ import annotations

import pytest

from bot.matching import Choice, CommandWords, match_choices
from tests.harness import FLOWS


def _choices(flow: str, step: str) -> list[Choice]:
    return [Choice.of(o) for o in FLOWS.step(flow, step).option_list]


SAFETY = _choices("incident", "safety")
ROLE = _choices("incident", "role")
HELP = _choices("incident", "help_wanted")


@pytest.mark.parametrize(("text", "expected"), [
    ("1", ["yes"]), ("2", ["no"]), ("Ja", ["yes"]), ("nee.", ["no"]), ("NEE", ["no"]),
    ("yes", ["yes"]), ("Nee hoor, het gaat", ["no"]), ("Ja, nu!", ["yes"]),
])
def test_the_safety_question_understands_clear_answers(text: str, expected: list[str]) -> None:
    assert match_choices(text, SAFETY) == expected


@pytest.mark.parametrize("text", [
    "misschien wel, ik weet het niet zeker", "ik weet het niet", "Dat weet ik niet zeker",
    "not sure", "3", "twijfel",
])
def test_doubt_at_the_safety_question_counts_as_possible_danger(text: str) -> None:
    assert match_choices(text, SAFETY) == ["unsure"]


@pytest.mark.parametrize("text", ["ja en nee", "0", "4", "", "?!", "1 2"])
def test_an_unclear_answer_to_the_safety_question_is_asked_again(text: str) -> None:
    assert match_choices(text, SAFETY) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("wethouder", ["wethouder"]), ("Ik ben raadslid", ["raadslid"]),
    ("Mayor (burgemeester)", ["burgemeester"]), ("Burgerlid", ["commissielid"]),
    ("ik ben geen wethouder maar raadslid", []), ("10", []),
])
def test_roles_by_word_label_or_sentence(text: str, expected: list[str]) -> None:
    assert match_choices(text, ROLE) == expected


def test_several_choices_at_once_on_a_multi_step() -> None:
    assert match_choices("1, 3 en 4", HELP, multi=True) == ["legal", "aftercare", "security"]
    assert match_choices("juridisch en beveiliging", HELP, multi=True) == ["legal", "security"]
    assert match_choices("1, 9", HELP, multi=True) == [], "a number out of range: ask again"
    assert match_choices("1 3", HELP) == [], "one choice only where the step is not multi"


def test_exact_only_for_free_text_steps() -> None:
    when = _choices("incident", "when")
    assert match_choices("Gisteren", when, exact_only=True) == ["yesterday"]
    assert match_choices("gisteren rond drie uur", when, exact_only=True) == []


@pytest.mark.parametrize(("text", "command"), [
    ("/stop", "stop"), ("/stop@WeerbaarBot", "stop"), ("Stop!", "stop"), ("MENS", "human"),
    ("/human", "human"), ("verwijder", "delete"), ("Taal", "language"), ("terug", "back"),
    ("/opnieuw", "restart"), ("english", "english"), ("/start", "start"),
    ("stop met bellen", None), ("ik wil een mens", None),
])
def test_command_words_are_whole_messages(text: str, command: str | None) -> None:
    assert CommandWords(FLOWS.system).match(text) == command


@pytest.mark.parametrize(("step", "text", "expected"), [
    ("role", "ik ben gemeenteambtenaar", ["ambtenaar"]),  # a compound ends in the name
    ("role", "ik zit in de gemeenteraad van Zwolle", ["raadslid"]),
    ("role", "wethoudr", ["wethouder"]),
    ("what", "er stonden mensen bij mijn huis", ["home_visit"]),  # "stonden" is "staan"
    ("what", "iemand volgt mij steeds", ["stalking"]),  # "volgt" is "volgen"
    ("what", "ze hebben mijn adres op internet gezet", ["doxing"]),
    ("help_wanted", "iemand om mee te praten", ["aftercare"]),
    ("help_wanted", "hulp om alles te verwerken", ["aftercare"]),
    ("help_wanted", "hulp met de pers", ["communication"]),
    ("what", "er loopt een haatcampagne tegen mij", ["online_hate"]),  # "haat" first
    ("what", "al mijn gegevens staan online", ["doxing"]),  # more than "online" alone
    ("perpetrator", "ik denk dat ik weet wie het was", ["suspect"]),  # not "ik weet wie"
    ("how", "hij stond ineens op mijn stoep", ["at_home"]),
])
def test_answers_in_other_forms_and_compounds(step: str, text: str,
                                              expected: list[str]) -> None:
    assert match_choices(text, _choices("incident", step)) == expected


def test_the_time_of_day_names_the_day_at_the_when_question() -> None:
    when = _choices("incident", "when")
    assert match_choices("vanochtend", when, exact_only=True) == ["today"]
    assert match_choices("gisteravond", when, exact_only=True) == ["yesterday"]
    assert match_choices("vorige maand", when, exact_only=True) == ["earlier"]


@pytest.mark.parametrize(("text", "expected"), [
    ("een paar honderd man", ["large"]),  # "een paar honderd" says more than "een paar"
    ("a few hundred people", ["large"]),
    ("een paar mensen", ["small"]),
])
def test_the_size_of_unrest_in_own_words(text: str, expected: list[str]) -> None:
    assert match_choices(text, _choices("onrust", "scale")) == expected


def test_as_typed_leaves_out_other_forms_and_typos() -> None:
    """For a message of danger the bot names an option only as typed: "staat" is "staten" in
    another form, but not in "er staat iemand in mijn tuin"."""
    assert match_choices("wethoudr", ROLE) == ["wethouder"]
    assert match_choices("wethoudr", ROLE, as_typed=True) == []
    assert match_choices("ik ben wethouder en ze staan voor mijn deur", ROLE,
                         as_typed=True) == ["wethouder"]
    assert match_choices("er staat iemand in mijn tuin", ROLE) == []
    assert match_choices("hij staat om de hoek", ROLE) == []


def test_a_common_word_is_not_taken_for_an_option_with_a_letter_off() -> None:
    """"doing" is a word of its own, not "doxing" typed wrong; "wethoudr" is a typo."""
    assert match_choices("my family is doing fine", _choices("incident", "what")) == []
    assert match_choices("wethoudr", ROLE) == ["wethouder"]
