"""The learned half of hearing danger and crisis: a linear model over the features of
:mod:`bot.understanding.features`, trained on ``flows/understanding/examples.yaml``.

The words of ``signals.yaml`` are a floor the model cannot lower: the model only adds alarms,
for ways of saying danger that no list holds. Its thresholds are set at training to warn as
eagerly as the false-alarm budget allows (see :mod:`bot.understanding.train`).
"""

from __future__ import annotations

import math
from collections.abc import Set

from bot.understanding.features import VERSION
from flows.schema import LinearScorer, SignalModel


class ModelError(Exception):
    """The model file does not fit this version of the bot."""


class Scorer:
    """One label: how likely a text is to carry it, from its features."""

    def __init__(self, data: LinearScorer) -> None:
        self._weights = data.weights
        self._bias = data.bias
        self.threshold = data.threshold

    def probability(self, features: Set[str]) -> float:
        weights = self._weights
        score = self._bias + sum(map(weights.__getitem__, weights.keys() & features))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))

    def heard(self, features: Set[str]) -> bool:
        return self.probability(features) >= self.threshold


class LearnedSignals:
    """The danger and crisis scorers of one model file."""

    def __init__(self, model: SignalModel) -> None:
        if model.features != VERSION:
            raise ModelError(f"the signal model was trained on features version "
                             f"{model.features}, this bot has {VERSION}: train it again")
        self.danger = Scorer(model.danger)
        self.crisis = Scorer(model.crisis)
