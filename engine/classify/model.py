"""The local model: train from labelled examples and staff corrections, classify, save and load.

``LocalClassifier.train`` fits a TF-IDF + linear SVM model with sigmoid-calibrated probabilities
with NumPy alone (see :mod:`engine.classify.fit`) and keeps it as arrays
(:mod:`engine.classify.compiled`), so classifying one email takes well under a millisecond.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.categories import ALL_CATEGORIES
from engine.classify.compiled import (
    FORMAT_VERSION,
    CompiledModel,
    ModelFileError,
    ModelMeta,
    Vector,
    load_compiled,
    read_meta,
)
from engine.classify.dataset import fingerprint, load_shipped_examples
from engine.classify.explain import model_reasons
from engine.classify.result import Classification
from engine.classify.text import ClassifierInput, LabelledText, model_text
from engine.errors import ConfigurationError

__all__ = [
    "CORRECTION_WEIGHT",
    "MODEL_FILE",
    "MODEL_VERSION",
    "ClassifierInput",
    "LabelledText",
    "LocalClassifier",
    "ModelFileError",
    "Prediction",
    "classifier_from_corrections",
]

log = logging.getLogger(__name__)

#: Identifies the features and estimator; part of every fingerprint, so a change retrains caches.
MODEL_VERSION = "tfidf-w12-cwb35-l2svm-c0.5-newton-sigmoid3-v2"
#: A staff correction counts this many times a shipped example (on top of its own weight).
CORRECTION_WEIGHT = 3.0
#: The cached model's file name inside the profile's model folder.
MODEL_FILE = "local-classifier.npz"
#: Each category needs at least this many examples (one per calibration fold, and then some).
MIN_EXAMPLES_PER_CATEGORY = 6


@dataclass(frozen=True)
class Prediction:
    """The model's view of one email: a probability per category, and the reasons for any of them."""

    probabilities: Mapping[str, float]
    _model: CompiledModel
    _vector: Vector

    def top(self) -> tuple[str, float]:
        """The most probable category and its probability."""
        category = max(self.probabilities, key=lambda c: self.probabilities[c])
        return category, self.probabilities[category]

    def reasons_for(self, category: str, *, limit: int = 5) -> tuple[str, ...]:
        """Human-readable reasons: the terms (and sender tokens) that pushed most toward ``category``."""
        contributions = self._model.word_contributions(self._vector, self._model.classes.index(category))
        return model_reasons(contributions, limit=limit)


class LocalClassifier:
    """A trained local model. Build one with :meth:`train` or :meth:`load`."""

    def __init__(self, model: CompiledModel, meta: ModelMeta) -> None:
        self._model = model
        self.meta = meta

    @property
    def fingerprint(self) -> str:
        """The fingerprint of the examples this model was trained on."""
        return self.meta.fingerprint

    @classmethod
    def train(cls, examples: Sequence[LabelledText]) -> LocalClassifier:
        """Train on shipped examples and staff corrections (corrections weigh :data:`CORRECTION_WEIGHT` ×).

        A shipped example whose subject and body a correction repeats is dropped: the staff's word wins.
        """
        from engine.classify.fit import fit

        used = _without_overridden(examples)
        _check_examples(used)
        texts = [model_text(e.subject, e.body, e.sender) for e in used]
        labels = [e.category for e in used]
        weights = [e.weight * (CORRECTION_WEIGHT if e.source == "correction" else 1.0) for e in used]
        pinned = [e.source == "correction" for e in used]
        model = fit(texts, labels, weights, pinned)
        meta = ModelMeta(
            format=FORMAT_VERSION,
            model_version=MODEL_VERSION,
            fingerprint=fingerprint(examples, model_version=MODEL_VERSION),
            classes=model.classes,
            examples=len(used),
            corrections=sum(pinned),
        )
        return cls(model, meta)

    def predict(self, item: ClassifierInput) -> Prediction:
        """Calibrated probabilities for every category (they sum to one)."""
        vector = self._model.vectorise(model_text(item.subject, item.body, item.sender))
        proba = self._model.probabilities(vector)
        return Prediction(dict(zip(self._model.classes, (float(p) for p in proba), strict=True)),
                          self._model, vector)

    def classify(self, item: ClassifierInput) -> Classification:
        """The most probable category, its calibrated probability and the words behind it."""
        prediction = self.predict(item)
        category, confidence = prediction.top()
        return Classification(category=category, confidence=min(1.0, max(0.0, confidence)),
                              reasons=prediction.reasons_for(category), source="model")

    def save(self, path: Path) -> None:
        """Write the model (with its format version and training fingerprint) to ``path``."""
        self._model.save(path, self.meta)

    @classmethod
    def load(cls, path: Path) -> LocalClassifier:
        """Load a saved model; raises :class:`ModelFileError` when it is missing, damaged or incompatible."""
        model, meta = load_compiled(path)
        if meta.model_version != MODEL_VERSION:
            raise ModelFileError(
                f"{path.name}: trained as {meta.model_version!r}; this version uses {MODEL_VERSION!r}"
            )
        if set(model.classes) != set(ALL_CATEGORIES):
            raise ModelFileError(f"{path.name}: its categories do not match this version's")
        return cls(model, meta)


def classifier_from_corrections(model_dir: Path, corrections: Sequence[LabelledText]) -> LocalClassifier:
    """The model for the shipped examples plus ``corrections``: the cached one if it matches, else retrained.

    The cache is ``model_dir / MODEL_FILE``; it is used when its fingerprint matches the shipped
    examples, the corrections and :data:`MODEL_VERSION`. Otherwise the model is trained and the
    cache replaced (a cache that cannot be written is logged and skipped: the model still works).
    """
    examples = [*load_shipped_examples(), *corrections]
    wanted = fingerprint(examples, model_version=MODEL_VERSION)
    path = model_dir / MODEL_FILE
    try:
        if read_meta(path).fingerprint == wanted:
            return LocalClassifier.load(path)
    except ModelFileError as exc:
        log.info("retraining the local classifier: %s", exc)
    classifier = LocalClassifier.train(examples)
    try:
        classifier.save(path)
    except OSError as exc:
        log.warning("could not cache the local classifier in %s: %s", model_dir, exc)
    return classifier


def _without_overridden(examples: Sequence[LabelledText]) -> list[LabelledText]:
    """Drop examples a later correction of the same subject and body overrides (the latest word wins)."""
    latest: dict[tuple[str, str], int] = {}
    for index, example in enumerate(examples):
        if example.source == "correction":
            latest[(example.subject, example.body)] = index
    return [e for i, e in enumerate(examples) if latest.get((e.subject, e.body), i) == i]


def _check_examples(examples: Sequence[LabelledText]) -> None:
    """Reject training sets the model cannot learn from, naming what is wrong."""
    unknown = sorted({e.category for e in examples} - set(ALL_CATEGORIES))
    if unknown:
        raise ConfigurationError(f"Unknown categories in the training examples: {', '.join(unknown)}.")
    bad = [e for e in examples if not e.weight > 0 or e.source not in ("shipped", "correction")]
    if bad:
        raise ConfigurationError(
            f"Training example {bad[0].subject!r} needs a positive weight and a known source."
        )
    counts = Counter(e.category for e in examples)
    short = [c for c in ALL_CATEGORIES if counts[c] < MIN_EXAMPLES_PER_CATEGORY]
    if short:
        raise ConfigurationError(
            f"Every category needs at least {MIN_EXAMPLES_PER_CATEGORY} training examples; too few for: "
            f"{', '.join(short)}."
        )
