"""The shape of a flow file. Texts are always given in Dutch and English."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

FLOW_PREFIX = "flow:"
Language = Literal["nl", "en"]
Period = Literal["today", "yesterday", "this_week", "earlier"]
"""The days an option of "when did it happen?" stands for (this week: from Monday)."""
LANGUAGES: tuple[Language, ...] = ("nl", "en")


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nl: StrictStr
    en: StrictStr

    @field_validator("nl", "en")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be empty")
        return value

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.nl


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: StrictStr
    label: Text
    words: tuple[StrictStr, ...] = ()
    next: StrictStr | None = None
    specialties: tuple[StrictStr, ...] = ()
    """Expert specialties this answer asks for (see ``routing.yaml``)."""
    period: Period | None = None
    """At a question of when something happened: the days this option stands for, so that a
    day typed ("afgelopen maandag") takes it."""


StepType = Literal["choice", "text", "info", "summary", "correct", "end"]


class Step(BaseModel):
    """One question or message.

    ``choice`` waits for an option; ``text`` takes free text (options are shortcuts);
    ``info`` says something and moves on; ``summary`` shows the answers to confirm;
    ``correct`` lets the person pick an answer to change; ``end`` closes the intake.
    ``stop_checkins``: entering the step cancels the person's planned check-ins.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: StepType = "choice"
    text: Text
    after: Text | None = None
    options: tuple[Option, ...] | StrictStr = ()
    next: StrictStr | None = None
    summary: Text | None = None
    multi: bool = False
    validate_as: Literal["phone", "email", "date"] | None = Field(default=None, alias="validate")
    urgent: bool = False
    human: bool = False
    submit: bool = False
    stop_checkins: bool = False

    @property
    def option_list(self) -> tuple[Option, ...]:
        assert not isinstance(self.options, str), "option sets are resolved when loaded"
        return self.options


class Flow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    flow: StrictStr
    start: StrictStr
    case_kind: StrictStr | None = None
    specialties: tuple[StrictStr, ...] = ()
    """Specialties every case of this flow needs, besides those its answers ask for."""
    shared_steps: tuple[StrictStr, ...] = ()
    steps: dict[str, Step]


class Common(BaseModel):
    """``common.yaml``: option sets and steps that flows share."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    option_sets: dict[str, tuple[Option, ...]] = {}
    steps: dict[str, Step] = {}


class MenuCommand(BaseModel):
    """A command as a chat app lists it in its menu (Telegram's "/" menu)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    command: StrictStr = Field(pattern=r"^[a-z0-9_]{1,32}$")
    description: StrictStr = Field(min_length=1, max_length=256)


class System(BaseModel):
    """``system.yaml``: the words that always work, the command menu and the bot's own texts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    commands: dict[str, tuple[StrictStr, ...]]
    command_menu: dict[Literal["nl", "en"], tuple[MenuCommand, ...]]
    texts: dict[str, Text]


class Presence(BaseModel):
    """Someone (``who``) together with a place or "coming" (``where``) signals danger now."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    who: tuple[StrictStr, ...] = ()
    where: tuple[StrictStr, ...] = ()


class SelfHarm(BaseModel):
    """The person (``self``) together with a word of harm or death (``harm``): a crisis."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    self: tuple[StrictStr, ...] = ()
    harm: tuple[StrictStr, ...] = ()


class Signals(BaseModel):
    """``signals.yaml``: words that signal danger now, or a crisis (thoughts of suicide); how
    they are matched is ``bot.understanding.signals``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    danger: tuple[StrictStr, ...]
    crisis: tuple[StrictStr, ...]
    not_danger: tuple[StrictStr, ...] = ()
    not_crisis: tuple[StrictStr, ...] = ()
    """Phrases in which words of death mean something else ("doodmoe", "dead tired") or are
    someone else's threat ("ze willen me dood"): their words make no crisis by the lists (the
    learned model still listens)."""
    plain: tuple[StrictStr, ...] = ()
    """Phrases in which a danger word has its ordinary meaning ("het zou niet helpen", "ask
    for help"): a danger phrase that shares a word with one makes no alarm, and the learned
    model keeps quiet on danger; the rest of the message counts as usual ("... want er staat
    iemand voor de deur")."""
    since: tuple[StrictStr, ...] = ()
    """Words that put what follows them in the past ("sinds de brand", "na de inbraak"): a
    danger phrase right after them is not danger now."""
    presence: Presence = Presence()
    past: tuple[StrictStr, ...] = ()
    """Words of an event that is over ("gisteren"): danger words then stay quiet, unless..."""
    now: tuple[StrictStr, ...] = ()
    """... words that say it is now, or still going on ("nu", "nog steeds")."""
    ongoing: tuple[StrictStr, ...] = ()
    """Words of now that tell of a lasting state ("nog steeds", "still"): fear said with them
    ("ik schrik nog steeds van de bel") is not danger now."""
    over: tuple[StrictStr, ...] = ()
    """Words that say an event told as over is over ("sindsdien is het rustig"): then nothing
    in the message is danger."""
    fear: tuple[StrictStr, ...] = ()
    """Fear: danger when said with a word of now."""
    self_harm: SelfHarm = SelfHarm()
    fields: dict[StrictStr, tuple[StrictStr, ...]] = {}
    """Word fields ("height": brug, dak, perron, ...) the learned model sees as one feature each,
    so that what it learns of one word holds for the others; they raise no alarm by
    themselves."""
    ordinary: tuple[StrictStr, ...] = ()
    """Ordinary words a letter or two from a signal word, or of the same dictionary form: heard
    only as typed, never taken for it ("ik woon" is not "woning")."""
    spelling: dict[StrictStr, StrictStr] = {}
    """Chat spellings written out before matching: "nie" is "niet"."""


class LinearScorer(BaseModel):
    """One label of the learned model: a weight per feature, and the score from which the
    label is heard (chosen at training for recall, see ``bot.understanding.train``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bias: float
    threshold: float
    weights: dict[StrictStr, float]


class SignalModel(BaseModel):
    """``understanding/model.json``: the danger and crisis model learned from
    ``understanding/examples.yaml``, heard beside the words of ``signals.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    features: int
    """The version of ``bot.understanding.features`` it was trained with."""
    examples_sha256: StrictStr
    danger: LinearScorer
    crisis: LinearScorer
    vocabulary: list[StrictStr] = []
    """The words of the examples as written: typos are corrected towards them."""


class Routing(BaseModel):
    """``routing.yaml``: what the bot says while a case goes to an expert, and the words of
    the expert's commands."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specialties: dict[str, Text]
    outcomes: dict[str, Text]
    commands: dict[str, tuple[StrictStr, ...]]
    texts: dict[str, Text]


class ExpertTemplate(BaseModel):
    """A vetted text an expert sends with ``sjabloon``: its title in the list, and the text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Text
    text: Text


class Templates(BaseModel):
    """``templates.yaml``: the experts' canned replies, by short name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    templates: dict[str, ExpertTemplate] = Field(default_factory=dict)


UrgencyLevel = Literal["spoed", "hoog", "normaal"]
URGENCY_LEVELS: tuple[UrgencyLevel, ...] = ("spoed", "hoog", "normaal")
"""Most urgent first."""


class TriageCondition(BaseModel):
    """One fact of a case: a signal seen in what the person wrote (``signal``), or an answer
    of the intake (``flow``/``step``) that is one of ``options`` or a date within
    ``within_hours`` from now."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    signal: Literal["danger", "crisis"] | None = None
    flow: StrictStr | None = None
    step: StrictStr | None = None
    options: tuple[StrictStr, ...] = ()
    within_hours: float | None = Field(default=None, gt=0)


class TriageRule(BaseModel):
    """When every condition in ``when`` holds, the case is at least ``level``; ``reason`` is
    what the expert reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: StrictStr = Field(pattern=r"^[a-z_]{1,32}$")
    level: Literal["spoed", "hoog"]
    reason: Text
    when: tuple[TriageCondition, ...] = Field(min_length=1)


class TriageExample(BaseModel):
    """A case and the level the rules must give it; checked when the flows are loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flow: StrictStr
    signals: tuple[Literal["danger", "crisis"], ...] = ()
    answers: dict[str, StrictStr | tuple[StrictStr, ...]] = {}
    """Per step an option id, several (multi), or a date as days from today ("+1")."""
    level: UrgencyLevel
    reasons: tuple[StrictStr, ...] = ()


class TriageLevel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: Text
    words: tuple[StrictStr, ...] = ()
    """What an expert may type for it ('urgentie 12 hoog')."""


class Triage(BaseModel):
    """``triage.yaml``: how urgent a case is, from its answers and signals."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: dict[StrictStr, TriageLevel]
    rules: tuple[TriageRule, ...]
    examples: tuple[TriageExample, ...] = Field(min_length=1)
