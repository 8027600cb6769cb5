"""A word typed wrong is also read as the word meant; words run together are split; what is
typed right is left alone."""

from __future__ import annotations

from bot.understanding.spelling import Speller
from bot.understanding.words import Words

SPELLER = Speller(["spoor", "live", "find", "raam", "afscheidsbrief", "doen", "alles", "tonight"])


def test_a_slip_is_read_as_the_nearest_known_word() -> None:
    assert SPELLER.readings("sptor") == ("spoor",)  # a key beside it
    assert SPELLER.readings("lvie") == ("live",)  # two letters swapped
    assert SPELLER.readings("afscheidmbrief") == ("afscheidsbrief",)
    assert SPELLER.readings("fiind") == ("find",)  # a letter doubled


def test_a_known_word_is_left_as_typed() -> None:
    assert SPELLER.readings("slaap") == ()  # a common Dutch word, one letter from "slaan"
    assert SPELLER.readings("spoor") == ()


def test_the_first_letter_is_not_taken_for_a_slip() -> None:
    """"kraam" (a market stall) is not "raam" (a window)."""
    assert SPELLER.readings("kraam") == ()


def test_short_words_are_not_corrected_but_for_a_letter_left_out() -> None:
    assert SPELLER.readings("dor") == ()  # "doen" is two letters off
    assert SPELLER.readings("lve") == ("live",)
    assert SPELLER.readings("sp") == ()


def test_words_run_together_are_split_where_a_small_word_joins_them() -> None:
    assert SPELLER.split("tedoen") == ("te", "doen")
    assert SPELLER.split("metalles") == ("met", "alles")
    assert SPELLER.split("erstaatiemandvoordedeur") == ("er", "staat", "iemand", "voor", "de",
                                                         "deur")


def test_a_compound_is_not_split() -> None:
    """Dutch writes compounds as one word: "huisadres" is not "huis adres"."""
    assert SPELLER.split("huisadres") is None
    assert SPELLER.split("fiind") is None  # a slip, not "fi ind"


def test_reading_a_text_keeps_the_typed_words_and_adds_the_meant_ones() -> None:
    read = SPELLER.read(Words.of("ik wil het tedoen, tonigt"))
    assert read.tokens == ("ik", "wil", "het", "te", "doen", "tonigt")
    assert read.forms(5) == ("tonigt", "tonight")
    assert read.forms(0) == ("ik",)


def test_a_text_typed_right_comes_back_as_it_was() -> None:
    words = Words.of("ik wil alles doen")
    assert SPELLER.read(words) is words


def test_a_single_letter_is_a_part_only_when_it_is_a_word() -> None:
    """"i" and "u" are words; "b" is not: "bugemster" is no "b u gems ter"."""
    assert SPELLER.split("iwanttodie") == ("i", "want", "to", "die")
    assert SPELLER.split("bugemster") is None


def test_an_answer_as_meant_has_its_slips_read_and_its_words_apart() -> None:
    assert SPELLER.as_meant("ik wil het tedoen tonigt") == "ik wil het te doen tonight"
    assert SPELLER.as_meant("ik wil alles doen") == "ik wil alles doen"


def test_english_words_run_together_are_split_dutch_compounds_are_not() -> None:
    """English writes its compounds apart, so English words typed as one are a missing space;
    Dutch words typed as one are split only when the bot knows every part."""
    assert SPELLER.split("hurtingmyself") == ("hurting", "myself")
    assert SPELLER.split("goodbyeletter") == ("goodbye", "letter")
    assert SPELLER.split("allesdoen") == ("alles", "doen")  # both words the bot knows
    assert SPELLER.split("voordeurbel") is None  # a Dutch compound
    assert SPELLER.split("burgemeesterswoning") is None


def test_a_letter_left_out_of_a_short_word_and_a_slip_beside_a_doubled_letter() -> None:
    speller = Speller(["want", "pillen", "wat"])
    assert speller.readings("wnt") == ("want",)  # three letters: only a letter left out
    assert speller.readings("pilldn") == ("pillen",)  # not read as "pildn"
    assert speller.readings("zeg") == ()  # a common word stays as typed
