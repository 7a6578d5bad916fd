"""The trained local model as plain arrays: fast to apply, safe to store.

Training (``engine.classify.fit``) produces TF-IDF vocabularies and the linear SVMs of the three
calibration folds with their sigmoid (Platt) calibrators. This module keeps only those numbers and
applies them: per fold, a decision value per class, a sigmoid per class, normalised to sum to one,
then the mean over the folds. The file format is a NumPy ``.npz`` archive read with
``allow_pickle=False``, so a damaged or tampered file can fail to load but cannot run code.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.classify.features import document_vector
from engine.errors import EngineError

#: Layout of the saved file; bump when the arrays stored change.
FORMAT_VERSION = 1
_ARRAYS = ("word_idf", "char_idf", "weights", "intercepts", "sigmoid_a", "sigmoid_b")

Vector = tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]


class ModelFileError(EngineError):
    """A saved model is missing, damaged, or from an incompatible version; retrain to replace it."""


@dataclass(frozen=True)
class ModelMeta:
    """What a saved model says about itself: format, model version and training-data fingerprint."""

    format: int
    model_version: str
    fingerprint: str
    classes: tuple[str, ...]
    examples: int
    corrections: int


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """A calibrated linear model over word and character TF-IDF features, as arrays.

    ``weights`` has one row per feature (word features first, then character features) and one
    column per (fold, class): column ``f * len(classes) + k`` is fold ``f``'s weight for class
    ``k``. ``intercepts``, ``sigmoid_a`` and ``sigmoid_b`` are laid out like the columns.
    """

    classes: tuple[str, ...]
    word_vocabulary: Mapping[str, int]
    word_idf: npt.NDArray[np.float64]
    char_vocabulary: Mapping[str, int]
    char_idf: npt.NDArray[np.float64]
    weights: npt.NDArray[np.float64]
    intercepts: npt.NDArray[np.float64]
    sigmoid_a: npt.NDArray[np.float64]
    sigmoid_b: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        """Check that the arrays fit together (a damaged file must not give silent nonsense)."""
        n_features = len(self.word_vocabulary) + len(self.char_vocabulary)
        columns = self.weights.shape[1] if self.weights.ndim == 2 else -1
        ok = (
            self.word_idf.shape == (len(self.word_vocabulary),)
            and self.char_idf.shape == (len(self.char_vocabulary),)
            and self.weights.shape[0] == n_features
            and len(self.classes) >= 2
            and columns > 0
            and columns % len(self.classes) == 0
            and all(a.shape == (columns,) for a in (self.intercepts, self.sigmoid_a, self.sigmoid_b))
        )
        if not ok:
            raise ModelFileError("the model's arrays do not fit together")

    @cached_property
    def word_terms(self) -> list[str]:
        """The word features in column order (to name the terms behind a decision)."""
        return _ordered_terms(self.word_vocabulary)

    @property
    def n_folds(self) -> int:
        """How many calibrated fold models are averaged."""
        return int(self.weights.shape[1] // len(self.classes))

    def vectorise(self, text: str) -> Vector:
        """The document's sparse feature vector: word block, then character block (each L2-normalised)."""
        return document_vector(text, self.word_vocabulary, self.word_idf, self.char_vocabulary, self.char_idf)

    def probabilities(self, vector: Vector) -> npt.NDArray[np.float64]:
        """Calibrated class probabilities (in ``classes`` order), summing to one."""
        index, values = vector
        decision = values @ self.weights[index] + self.intercepts
        with np.errstate(over="ignore"):
            proba = 1.0 / (1.0 + np.exp(self.sigmoid_a * decision + self.sigmoid_b))
        per_fold = proba.reshape(self.n_folds, len(self.classes))
        sums = per_fold.sum(axis=1, keepdims=True)
        uniform = np.full_like(per_fold, 1.0 / len(self.classes))
        per_fold = np.divide(per_fold, sums, out=uniform, where=sums != 0)
        per_fold[(per_fold > 1.0) & (per_fold <= 1.0 + 1e-5)] = 1.0
        result: npt.NDArray[np.float64] = per_fold.mean(axis=0)
        return result

    def word_contributions(self, vector: Vector, class_index: int) -> list[tuple[str, float]]:
        """Each word feature's push toward ``class_index`` (tf-idf × fold-averaged weight), largest first."""
        index, values = vector
        n_words = len(self.word_vocabulary)
        mask = index < n_words
        word_index, word_values = index[mask], values[mask]
        columns = self.weights[word_index][:, class_index :: len(self.classes)]
        contributions = word_values * columns.mean(axis=1)
        order = np.argsort(-contributions)
        return [(self.word_terms[int(word_index[i])], float(contributions[i])) for i in order]

    def save(self, path: Path, meta: ModelMeta) -> None:
        """Write the model atomically (temporary file, then rename) to ``path``."""
        header = {"format": meta.format, "model_version": meta.model_version, "fingerprint": meta.fingerprint,
                  "classes": list(self.classes), "examples": meta.examples, "corrections": meta.corrections}
        arrays: dict[str, npt.NDArray[Any]] = {
            "meta": _utf8(json.dumps(header)),
            "word_terms": _utf8("\n".join(self.word_terms)),
            "char_terms": _utf8("\n".join(_ordered_terms(self.char_vocabulary))),
        }
        for name in _ARRAYS:
            arrays[name] = getattr(self, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".model-", suffix=".npz", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, allow_pickle=False, **arrays)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def read_meta(path: Path) -> ModelMeta:
    """Read only the header of a saved model (cheap: the arrays are not loaded)."""
    with _open(path) as archive:
        return _meta(archive, path)


def load_compiled(path: Path) -> tuple[CompiledModel, ModelMeta]:
    """Load a saved model; :class:`ModelFileError` says why when it cannot be used."""
    with _open(path) as archive:
        meta = _meta(archive, path)
        try:
            arrays = {name: np.asarray(archive[name], dtype=np.float64) for name in _ARRAYS}
            word_terms = _terms(_text(archive["word_terms"]))
            char_terms = _terms(_text(archive["char_terms"]))
        except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelFileError(f"{path.name}: the model file is damaged ({exc})") from exc
    model = CompiledModel(
        classes=meta.classes,
        word_vocabulary={t: i for i, t in enumerate(word_terms)},
        char_vocabulary={t: i for i, t in enumerate(char_terms)},
        **arrays,
    )
    return model, meta


@contextmanager
def _open(path: Path) -> Iterator[Any]:
    """Open an ``.npz`` archive without allowing pickled objects (the file is closed on every path)."""
    if not path.is_file():
        raise ModelFileError(f"{path}: no saved model")
    with path.open("rb") as handle:
        try:
            archive = np.load(handle, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelFileError(f"{path.name}: not a model file or damaged ({exc})") from exc
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ModelFileError(f"{path.name}: not a model file (a single array, not an archive)")
        with archive:
            yield archive


def _meta(archive: Any, path: Path) -> ModelMeta:
    """Parse and check the header of an opened archive."""
    try:
        header = json.loads(_text(archive["meta"]))
        meta = ModelMeta(
            format=int(header["format"]),
            model_version=str(header["model_version"]),
            fingerprint=str(header["fingerprint"]),
            classes=tuple(str(c) for c in header["classes"]),
            examples=int(header["examples"]),
            corrections=int(header["corrections"]),
        )
    except (KeyError, ValueError, TypeError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{path.name}: the model file has no readable header ({exc})") from exc
    if meta.format != FORMAT_VERSION:
        raise ModelFileError(f"{path.name}: file format {meta.format}; this version reads {FORMAT_VERSION}")
    return meta


def _utf8(text: str) -> npt.NDArray[np.uint8]:
    """Text stored as a byte array (NumPy string arrays pad every entry to the longest)."""
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _text(array: npt.NDArray[Any]) -> str:
    """Inverse of :func:`_utf8`."""
    if array.dtype != np.uint8 or array.ndim != 1:
        raise ValueError("expected a byte array")
    return array.tobytes().decode("utf-8")


def _terms(text: str) -> list[str]:
    """Newline-separated terms (none for the empty string)."""
    return text.split("\n") if text else []


def _ordered_terms(vocabulary: Mapping[str, int]) -> list[str]:
    """Terms in column order."""
    terms = [""] * len(vocabulary)
    for term, index in vocabulary.items():
        terms[index] = term
    return terms
