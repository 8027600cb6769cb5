"""Danger now, or a crisis (thoughts of suicide), in what a person wrote, Dutch or English.

The signal words are data (``flows/signals.yaml``); this is how they are heard:

- a phrase matches its words in order, each as typed, inflected (stems), with doubled
  letters or a letter or two off ("brnad" is "brand"), with at most one other word between
  two of them ("voor mijn deur", "voor de deur");
- a long phrase also matches typed without spaces ("hijstaatvoordedeur");
- *presence*: someone (``who``) together with a place or "coming" (``where``) is danger:
  "er zit iemand in mijn tuin", "there is a man outside my front door";
- a danger phrase inside a ``not_danger`` one ("ik ben niet in gevaar") does not count, nor
  one right after a word of ``since`` ("ik slaap slecht sinds de brand");
- a danger word in a ``plain`` phrase ("het zou niet helpen") is no alarm by itself;
- words of death inside a ``not_crisis`` phrase ("doodmoe", "ze willen me dood") make no
  crisis by the lists;
- presence told as over ("gisteren stond hij voor de deur", with no "nu" or "nog steeds"), or
  with words that say it is not danger ("maar nu is hij weg"), stays quiet; a danger word (a
  knife, fire) only when told as over *and* said to be so (``over``: "sindsdien is het
  rustig"); a crisis never does;
- fear (``fear``) said with a word of now ("ik ben echt bang nu") is danger, but not with a word
  of a lasting state (``ongoing``: "ik schrik nog steeds van de bel"); the person
  (``self_harm.self``) with a word of harm or death (``self_harm.harm``) is a crisis;
- chat spellings are written out first ("nie" is "niet", "im" is "i am"), from the file;
- the learned model (``flows/understanding/model.json``) hears what the words above miss: it
  sees the text's words and letter pieces, and which of the word sets above it touches.

A false alarm costs little; a miss is the worst failure of this bot, so when in doubt it warns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from bot.understanding.dates import DATE_WORDS
from bot.understanding.features import features
from bot.understanding.model import LearnedSignals
from bot.understanding.spelling import Speller
from bot.understanding.words import Vocabulary, Words, collapse, is_common
from flows.schema import SignalModel, Signals
from flows.text import normalize

ALARMING = frozenset({"danger", "crisis", "who", "where", "fear", "harm"})
"""The word sets of danger and crisis (the word fields aside)."""
MAX_GAP = 1
MIN_SQUASHED = 8


@dataclass(frozen=True)
class Alarm:
    danger: bool
    crisis: bool

    def __bool__(self) -> bool:
        return self.danger or self.crisis

    def __or__(self, other: Alarm) -> Alarm:
        return Alarm(danger=self.danger or other.danger, crisis=self.crisis or other.crisis)

    @property
    def kinds(self) -> set[str]:
        """"danger" and/or "crisis", as triage names them."""
        return {name for name, seen in (("danger", self.danger), ("crisis", self.crisis))
                if seen}


_SENTENCE_END = re.compile(r"[.!?;\n]+")
"""Not ":": a quote is part of its sentence ("hij schreef: ik weet waar je woont")."""


ENDS = 30
"""Of a text of many sentences, this many at its start and at its end are judged alone (the
urgent part of a long story is often its last line); the whole text is judged too."""


def _sentences(text: str) -> list[str]:
    """The distinct sentences of a text of more than one, in order."""
    parts = list(dict.fromkeys(part.strip() for part in _SENTENCE_END.split(text)
                               if part.strip()))
    if len(parts) <= 1:
        return []
    return parts if len(parts) <= 2 * ENDS else parts[:ENDS] + parts[-ENDS:]


class _Heard(NamedTuple):
    alarm: Alarm
    """The alarm the word lists give."""
    quiet: bool
    """The model is to keep quiet on danger: "not in danger" or a plain phrase was said
    ("het zou niet helpen"), or the event is told as over and said to be so."""
    told_over: bool
    """Something is told in the past ("gisteren", "vorige maand"), with no word of now."""
    said_over: bool
    """Something is said to be over ("sindsdien is het rustig", "nu niet meer")."""


def _phrases(entries: Iterable[str], spelling: dict[str, str]) -> list[tuple[str, ...]]:
    result = []
    for entry in entries:
        wildcard = entry.rstrip().endswith("*")
        words = list(Words.of(entry.rstrip().rstrip("*"), spelling).tokens)
        if words:
            if wildcard:
                words[-1] += "*"
            result.append(tuple(words))
    return result


class _PhraseSet:
    def __init__(self, entries: Iterable[str], spelling: dict[str, str],
                 gap: int = MAX_GAP) -> None:
        self.phrases = _phrases(entries, spelling)
        self.gap = gap
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in self.phrases:
            self._by_first.setdefault(phrase[0], []).append(phrase)
        self._firsts = frozenset(self._by_first)
        self.squashed = [(collapse("".join(p).rstrip("*")), p) for p in self.phrases
                         if len("".join(p)) >= MIN_SQUASHED]

    def words(self) -> set[str]:
        return {w for phrase in self.phrases for w in phrase}

    def spans(self, matched: Sequence[frozenset[str]]) -> list[tuple[int, int]]:
        """Where the phrases are found: (first, last) token of each."""
        found = []
        for start, words in enumerate(matched):
            for word in words & self._firsts:
                for phrase in self._by_first[word]:
                    end = _rest(phrase, matched, start, self.gap)
                    if end is not None:
                        found.append((start, end))
        return found

    def in_squashed(self, squashed: str) -> bool:
        return any(text in squashed for text, _ in self.squashed)


def _rest(phrase: tuple[str, ...], matched: Sequence[frozenset[str]], start: int,
          gap: int) -> int | None:
    position = start
    for word in phrase[1:]:
        for step in range(1, gap + 2):
            if position + step < len(matched) and word in matched[position + step]:
                position += step
                break
        else:
            return None
    return position


def _inside(spans: Iterable[tuple[int, int]]) -> set[int]:
    """The tokens the spans cover."""
    return {i for start, end in spans for i in range(start, end + 1)}


def _apart(spans: Iterable[tuple[int, int]], covered: set[int]) -> bool:
    """Whether a span shares no token with the covered ones ("i should die": "i die" is
    inside "should die")."""
    return any(covered.isdisjoint(range(start, end + 1)) for start, end in spans)


def _touched(found: dict[str, list[tuple[int, int]]]) -> list[str]:
    """The word sets with a phrase found, in name order."""
    return sorted(name for name, spans in found.items() if spans)


class SignalDetector:
    """``ordinary``: words of ordinary answers (the options' words), never taken for a signal
    word typed with a letter off; ``answers``: whole texts the flows offer (options and
    commands), which the learned ``model`` is not asked about."""

    def __init__(self, signals: Signals, ordinary: Iterable[str] = (),
                 model: SignalModel | None = None, answers: Iterable[str] = (),
                 lexicon: Iterable[str] = ()) -> None:
        """``lexicon``: more words typos are corrected to (see :class:`Speller`), besides the
        signal words, the options' words, the words of dates and the model's vocabulary."""
        spelling = self._spelling = {normalize(k): normalize(v)
                                     for k, v in signals.spelling.items()}
        self._danger = _PhraseSet(signals.danger, spelling)
        self._crisis = _PhraseSet(signals.crisis, spelling)
        self._not_danger = _PhraseSet(signals.not_danger, spelling, gap=0)  # "ben (niet) veilig"
        self._not_crisis = _PhraseSet(signals.not_crisis, spelling, gap=0)
        self._since = _PhraseSet(signals.since, spelling, gap=0)
        self._plain = _PhraseSet(signals.plain, spelling, gap=0)
        self._who = _PhraseSet(signals.presence.who, spelling)
        self._where = _PhraseSet(signals.presence.where, spelling)
        self._past = _PhraseSet(signals.past, spelling)
        self._now = _PhraseSet(signals.now, spelling)
        self._ongoing = _PhraseSet(signals.ongoing, spelling, gap=0)
        self._over = _PhraseSet(signals.over, spelling)
        self._fear = _PhraseSet(signals.fear, spelling)
        self._self = _PhraseSet(signals.self_harm.self, spelling)
        self._harm = _PhraseSet(signals.self_harm.harm, spelling)
        self._fields = {f"field_{name}": _PhraseSet(words, spelling)
                        for name, words in signals.fields.items()}
        sets = (self._danger, self._crisis, self._not_danger, self._not_crisis, self._since,
                self._plain, self._who, self._where, self._past, self._now, self._ongoing,
                self._over, self._fear, self._self, self._harm, *self._fields.values())
        ordinary = frozenset(ordinary)
        self._vocabulary = Vocabulary((w for s in sets for w in s.words()), ordinary,
                                      as_typed=map(normalize, signals.ordinary))
        self.speller = Speller({w for w in self._vocabulary.words if not w.endswith("*")}
                               | ordinary | set(lexicon) | DATE_WORDS
                               | set(model.vocabulary if model else ()))
        """Reads words typed with a slip as meant, for the word lists, the model, and
        answers at choice and date questions alike."""
        self._concepts = {
            "danger": self._danger, "crisis": self._crisis, "not": self._not_danger,
            "not_crisis": self._not_crisis, "since": self._since, "plain": self._plain,
            "who": self._who, "where": self._where, "past": self._past, "now": self._now,
            "ongoing": self._ongoing, "over": self._over, "fear": self._fear,
            "self": self._self, "harm": self._harm, **self._fields}
        self._model = LearnedSignals(model) if model else None
        is_common("help")  # loads wordfreq's lists now, not while the first person waits
        self._answers = frozenset(answers)
        """Answers the flows offer ("Schade aan huis of auto"): the model is not asked about
        them, only the word lists are."""

    @staticmethod
    def _single(phrases: _PhraseSet) -> list[tuple[str]]:
        return [(p[0],) for p in phrases.phrases if len(p) == 1 and len(p[0]) >= 2]

    def check(self, text: str) -> Alarm:
        """The whole text, and each of its sentences alone: a calm sentence beside it must not
        hide "hij staat voor de deur". Danger told as over and said to be so in the whole
        ("vorige maand ... . Sindsdien is het rustig.") stays quiet in its sentences too."""
        alarm, whole = self._check_one(text)
        for sentence in _sentences(text):
            if alarm.danger and alarm.crisis:
                break
            found, heard = self._check_one(sentence, alone=True)
            # "vorige maand ... . Sindsdien is het rustig.": the first sentence is that event
            over = whole.said_over and heard.told_over
            alarm |= Alarm(danger=found.danger and not over, crisis=found.crisis)
        return alarm

    def _check_one(self, text: str, alone: bool = False) -> tuple[Alarm, _Heard]:
        """The alarm for one text, and what the word lists heard of it. Of a sentence judged
        ``alone``, the model hears danger only when it touches a word set of danger: a
        neutral sentence of a long, calm account ("het is een lang verhaal") gets its own
        chance of a false 112 otherwise. Crisis is often said without such words, and its
        budget of false alarms is smaller: the model hears it in every sentence."""
        words, found = self._read(text)
        heard = self._by_words(words, found)
        alarm = heard.alarm
        if self._model is None or (alarm.danger and alarm.crisis) \
                or normalize(text) in self._answers:
            return alarm, heard
        seen = self._features(words, found, alarm)
        danger_words = not alone or not ALARMING.isdisjoint(_touched(found))
        return Alarm(danger=alarm.danger or (danger_words and not heard.quiet
                                             and self._model.danger.heard(seen)),
                     crisis=alarm.crisis or self._model.crisis.heard(seen)), heard

    def concepts(self, text: str) -> set[str]:
        """The word sets a text touches ("who", "where", "danger", ...)."""
        return set(_touched(self._read(text)[1]))

    def model_features(self, text: str) -> set[str]:
        """What the learned model sees of a text (for training it)."""
        words, found = self._read(text)
        return self._features(words, found, self._by_words(words, found).alarm)

    def _read(self, text: str) -> tuple[Words, dict[str, list[tuple[int, int]]]]:
        """The text's words, and where each word set's phrases are found in them."""
        words = self.speller.read(Words.of(text, self._spelling))
        matched = [frozenset().union(*map(self._vocabulary.matches, words.forms(at)))
                   for at in range(len(words.tokens))]
        return words, {name: phrases.spans(matched) for name, phrases in self._concepts.items()}

    @staticmethod
    def _features(words: Words, found: dict[str, list[tuple[int, int]]],
                  alarm: Alarm) -> set[str]:
        touched = _touched(found)
        seen = features(words)
        seen.update(f"k:{name}" for name in touched)
        seen.update(f"k:{a}+{b}" for i, a in enumerate(touched) for b in touched[i + 1:])
        seen.update(f"k:rule_{kind}" for kind in alarm.kinds)
        count = len(words.tokens)
        seen.add("n:1" if count <= 1 else "n:2" if count <= 3 else "n:4" if count <= 7
                 else "n:8")
        return seen

    def _by_words(self, words: Words, found: dict[str, list[tuple[int, int]]]) -> _Heard:
        """What the word lists hear of a text (see :class:`_Heard`)."""
        not_crisis = _inside(found["not_crisis"])
        crisis = _apart(found["crisis"], not_crisis) \
            or self._crisis.in_squashed(words.squashed) \
            or (bool(found["self"]) and _apart(found["harm"], not_crisis))
        covered = _inside(found["not"])
        after = {end + 1 for _, end in found["since"]}  # "sinds de brand": a brand in the past
        said_over = _inside(found["over"])
        # "nu" in "maar nu is hij weg" or "dat is nu voorbij" is not a word of now
        now = any(start not in covered | said_over for start, _ in found["now"])
        told_over = bool(found["past"]) and not now
        if told_over and said_over:  # "vorige maand ..., sindsdien is het rustig"
            return _Heard(Alarm(danger=False, crisis=crisis), quiet=True, told_over=True,
                          said_over=True)
        plain = _inside(found["plain"])  # "het zou niet helpen" is no cry for help
        danger = _apart([span for span in found["danger"] if span[0] not in covered | after],
                        plain)
        if not danger and not words.tokens[1:] and not covered:
            danger = self._danger.in_squashed(words.squashed)
        lasting = covered | said_over | _inside(found["ongoing"])
        if not danger and not covered and any(start not in lasting for start, _ in found["now"]):
            danger = bool(found["fear"])  # "ik ben echt bang nu", not "ik ben nog steeds bang"
        if not danger and not covered and not told_over:
            # someone here or coming; quiet for what is told as over ("gisteren"), and for
            # someone asked for ("iemand spreken die verstand heeft van het huis"), and a
            # "back" that is a call back ("can someone call me back")
            danger = _apart(found["who"], plain) and any(start not in covered | plain
                                                         for start, _ in found["where"])
        if not danger and len(words.tokens) == 1 and len(words.squashed) >= MIN_SQUASHED:
            # typed without spaces: "hijstaatvoordedeur"
            token = words.tokens[0]
            danger = any(token.startswith(w) for (w,) in self._single(self._who)) \
                and self._where.in_squashed(words.squashed)
        # the model keeps quiet on danger too where "help" is a plain verb ("ik heb hulp nodig
        # met een persbericht"); someone at the door is still heard by the lists above
        return _Heard(Alarm(danger=danger, crisis=crisis), quiet=bool(covered or plain),
                      told_over=told_over, said_over=bool(said_over))
