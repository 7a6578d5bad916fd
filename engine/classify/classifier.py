"""The offline classifier: user rules first, then header signals weighed with the local model."""

from __future__ import annotations

from collections.abc import Sequence

from engine.categories import Category
from engine.classify.model import LocalClassifier
from engine.classify.result import Classification
from engine.classify.rules import Rule, RuleSet
from engine.classify.signals import header_signal, with_header_evidence
from engine.classify.text import ClassifierInput


class OfflineClassifier:
    """Classifies an email with no network: rules, then headers and the local model.

    ``rules`` are validated on construction (:class:`engine.errors.ConfigurationError`).
    """

    def __init__(self, rules: Sequence[Rule], model: LocalClassifier) -> None:
        self._rules = RuleSet(rules)
        self.model = model

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules in the order they are tried."""
        return self._rules.rules

    def classify(self, item: ClassifierInput) -> Classification:
        """The first matching rule's category, else the model's (with automated-mail headers weighed in)."""
        matched = self._rules.match(item)
        if matched is not None:
            return matched
        prediction = self.model.predict(item)
        signal = header_signal(item)
        if signal is None:
            category, confidence = prediction.top()
            return Classification(category, _clamp(confidence), prediction.reasons_for(category), "model")
        posterior = with_header_evidence(prediction.probabilities)
        category = max(posterior, key=lambda c: posterior[c])
        reasons = prediction.reasons_for(category)
        if category == Category.NOTIFICATION.value:
            return Classification(category, _clamp(posterior[category]), (signal, *reasons), "headers")
        return Classification(category, _clamp(posterior[category]),
                              (*reasons, f"{signal} (outweighed by the content)"), "model")


def _clamp(value: float) -> float:
    """Keep rounding error from leaving [0, 1]."""
    return min(1.0, max(0.0, value))
