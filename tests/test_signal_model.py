"""The learned danger and crisis model (flows/understanding): it belongs to its examples, it
hears what the word lists miss, and it never overrules what the lists and the flows settle."""

from __future__ import annotations

import hashlib

import pytest

from bot.conversation import ConversationLogic, option_texts, option_words
from bot.understanding.features import VERSION
from bot.understanding.model import LearnedSignals, ModelError
from bot.understanding.signals import SignalDetector
from bot.understanding.train import load_examples, train
from flows.loader import EXAMPLES_FILE, FLOWS_DIR
from flows.text import normalize
from tests.harness import FLOWS, Bot, make_logic, texts

WORDS_ONLY = SignalDetector(FLOWS.signals, ordinary=option_words(FLOWS))
WITH_MODEL = SignalDetector(FLOWS.signals, ordinary=option_words(FLOWS),
                            model=FLOWS.signal_model, answers=option_texts(FLOWS))

# Messages from the evaluation sets that no word list holds: only the model hears them.
ONLY_THE_MODEL_HEARS = {
    "danger": ["er ligt iets verdachts voor mijn deur en het piept",
               "iemand probeert het slot te forceren",
               "someone is shouting through the letterbox that he will get me",
               "a brick came through the window just now"],
    "crisis": ["ik zie geen uitweg meer", "i have no will to live anymore",
               "i dont want to be alive"],
}


def test_no_example_is_also_a_message_of_the_held_out_sets() -> None:
    """The evaluation sets are never trained on, not even by chance ("i want to kill myself"
    is written by anyone): otherwise their figures say how well the model remembers."""
    from bench.understanding import CORPORA, load, messages

    held_out = {normalize(text) for path in CORPORA.glob("*_corpus.yaml")
                if path.name not in ("signals_corpus.yaml", "answers_corpus.yaml")
                for text in messages(load(path.name))}
    examples = load_examples(FLOWS_DIR / EXAMPLES_FILE)
    assert len(held_out) > 500
    assert sorted({e.text for e in examples if normalize(e.text) in held_out}) == []


def test_the_model_was_trained_on_the_examples_as_they_are() -> None:
    assert FLOWS.signal_model is not None
    examples = (FLOWS_DIR / EXAMPLES_FILE).read_bytes()
    assert FLOWS.signal_model.examples_sha256 == hashlib.sha256(examples).hexdigest(), \
        "examples.yaml changed: run python -m bot.understanding.train"


@pytest.mark.slow  # trains the model (about 20 s)
def test_training_again_gives_the_shipped_model() -> None:
    trained, report = train()
    shipped = FLOWS.signal_model
    assert shipped is not None and trained.features == shipped.features == VERSION
    for label in ("danger", "crisis"):
        new, old = getattr(trained, label), getattr(shipped, label)
        assert new.threshold == pytest.approx(old.threshold, abs=1e-3)
        assert new.bias == pytest.approx(old.bias, abs=1e-3)
        worst = max(abs(new.weights.get(k, 0.0) - old.weights.get(k, 0.0))
                    for k in new.weights.keys() | old.weights.keys())
        assert worst < 5e-3
    assert "heard" in report


def test_the_examples_are_many_and_in_both_languages() -> None:
    examples = load_examples(FLOWS_DIR / EXAMPLES_FILE)
    for label in ("danger", "crisis", "calm"):
        for language in ("nl", "en"):
            count = sum(e.label == label and e.language == language for e in examples)
            assert count >= (60 if label == "crisis" else 200), (label, language)


@pytest.mark.parametrize(("kind", "text"), [(kind, text) for kind, texts in
                                            ONLY_THE_MODEL_HEARS.items() for text in texts])
def test_the_model_hears_what_the_word_lists_miss(kind: str, text: str) -> None:
    assert kind not in WORDS_ONLY.check(text).kinds
    assert kind in WITH_MODEL.check(text).kinds


def test_the_conversation_uses_the_model() -> None:
    logic = ConversationLogic(FLOWS, {})
    assert logic.signals.check("er zijn vreemden in ons huis").danger


@pytest.mark.parametrize("text", ["ik ben niet in gevaar", "i am not in danger",
                                  "nee ik ben veilig"])
def test_not_in_danger_stays_quiet(text: str) -> None:
    assert not WITH_MODEL.check(text)


def test_an_answer_the_flows_offer_is_not_taken_for_danger_by_the_model() -> None:
    """"politie" is a topic of the tips: the model is not asked about it, even a model that
    would take every text for danger (threshold 0)."""
    assert "politie" in option_texts(FLOWS) and FLOWS.signal_model is not None
    eager = FLOWS.signal_model.model_copy(update={
        "danger": FLOWS.signal_model.danger.model_copy(update={"threshold": 0.0})})
    without_answers = SignalDetector(FLOWS.signals, ordinary=option_words(FLOWS), model=eager)
    with_answers = SignalDetector(FLOWS.signals, ordinary=option_words(FLOWS), model=eager,
                                  answers=option_texts(FLOWS))
    assert without_answers.check("politie").danger
    assert not with_answers.check("politie")
    assert with_answers.check("de politie moet komen").danger, "other texts are still heard"


def test_a_model_of_other_features_is_refused() -> None:
    assert FLOWS.signal_model is not None
    other = FLOWS.signal_model.model_copy(update={"features": VERSION + 1})
    with pytest.raises(ModelError, match="train it again"):
        LearnedSignals(other)


@pytest.mark.parametrize("word", ["hulp", "Hulp", "/hulp", "stop", "uitleg"])
def test_a_command_word_is_not_taken_for_danger_by_the_model(word: str) -> None:
    """'hulp' asks how the chat works (the help starts with 112 anyway); only the word lists
    may call a command word danger ('help' is one)."""
    signals = make_logic().signals  # as the bot has it
    assert not signals.check(word)
    assert signals.check("help").danger
    assert signals.check("hulp alsjeblieft er is iemand in huis").danger


async def test_hulp_mid_intake_explains_the_chat_without_an_alarm(sqlite_url: str) -> None:
    async with Bot(sqlite_url) as bot:
        await bot.script(["hallo", "1", "nee"])
        said = texts(await bot.say("hulp"))
        (case,) = bot.cases()
    assert "Deze woorden werken altijd" in said
    assert "De politie kan meteen komen" not in said, "no danger advice for the help word"
    assert not case.urgent


def test_an_example_stays_in_its_fold_when_others_are_added() -> None:
    """Folds go by the text, not the position: a new example moves no other one, so the
    thresholds chosen by cross-validation do not jump with every example added."""
    from bot.understanding.train import FOLDS, Example, fold_of

    examples = [Example(f"bericht {n}", "calm", "nl") for n in range(500)]
    before = {e.text: fold_of(e) for e in examples}
    after = {e.text: fold_of(e) for e in [Example("nieuw", "calm", "nl"), *examples]}
    assert all(after[text] == fold for text, fold in before.items())
    sizes = [list(before.values()).count(fold) for fold in range(FOLDS)]
    assert min(sizes) > 500 / FOLDS / 2  # every fold holds a fair share
