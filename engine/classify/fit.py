"""Fitting the local model with scikit-learn, then compiling it to arrays.

scikit-learn is imported inside these functions only: importing it costs most of a second, and
the desktop must start fast (a cached model is loaded without it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.classify.compiled import CompiledModel
from engine.classify.features import char_features, word_features

#: Calibration folds (``CalibratedClassifierCV(cv=3)``).
FOLDS = 3
#: Regularisation of the linear SVMs (chosen by cross-validation on the shipped examples).
SVM_C = 0.5
#: Character n-grams must occur in at least this many training emails.
CHAR_MIN_DF = 2
_SEED = 20261130


@dataclass
class Fitted:
    """The scikit-learn objects of one training: two vectorizers and the calibrated classifier."""

    word_vectorizer: Any
    char_vectorizer: Any
    calibrated: Any

    def transform(self, texts: Sequence[str]) -> Any:
        """The feature matrix scikit-learn sees for ``texts`` (used by tests to cross-check)."""
        import scipy.sparse as sp

        blocks = [self.word_vectorizer.transform(texts), self.char_vectorizer.transform(texts)]
        return sp.hstack(blocks).tocsr()


def fit(
    texts: Sequence[str], labels: Sequence[str], weights: Sequence[float], pinned: Sequence[bool]
) -> Fitted:
    """Fit TF-IDF (word 1–2-grams, char 3–5-grams, sublinear tf) and a sigmoid-calibrated linear SVM.

    ``pinned`` examples (staff corrections) are in the training part of every calibration fold,
    so each fold model learns from them; calibration uses the other (shipped) examples only.
    """
    import scipy.sparse as sp
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    word_vectorizer = TfidfVectorizer(analyzer=word_features, sublinear_tf=True)
    char_vectorizer = TfidfVectorizer(analyzer=char_features, sublinear_tf=True, min_df=CHAR_MIN_DF)
    matrix = sp.hstack([word_vectorizer.fit_transform(texts), char_vectorizer.fit_transform(texts)]).tocsr()
    y = np.asarray(labels)
    svm = LinearSVC(C=SVM_C, random_state=_SEED)
    calibrated = CalibratedClassifierCV(svm, method="sigmoid", cv=_folds(y, pinned))
    calibrated.fit(matrix, y, sample_weight=np.asarray(weights, dtype=np.float64))
    return Fitted(word_vectorizer, char_vectorizer, calibrated)


Split = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]


def _folds(y: npt.NDArray[Any], pinned: Sequence[bool]) -> list[Split]:
    """Stratified folds over the unpinned examples, with every pinned example added to each training part."""
    from sklearn.model_selection import StratifiedKFold

    pinned_mask = np.asarray(pinned, dtype=bool)
    free = np.flatnonzero(~pinned_mask)
    always = np.flatnonzero(pinned_mask)
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=_SEED)
    splits = splitter.split(free, y[free])
    return [(np.concatenate((free[train], always)), free[test]) for train, test in splits]


def compile_fitted(fitted: Fitted) -> CompiledModel:
    """Keep only the numbers: vocabularies, idf, each fold's weights and sigmoid parameters."""
    calibrated = fitted.calibrated
    classes = tuple(str(c) for c in calibrated.classes_)
    columns: list[npt.NDArray[np.float64]] = []
    intercepts, sig_a, sig_b = [], [], []
    for fold in calibrated.calibrated_classifiers_:
        estimator = fold.estimator
        by_class = {str(c): i for i, c in enumerate(estimator.classes_)}
        if set(by_class) != set(classes) or len(fold.calibrators) != len(classes):
            raise ValueError("every calibration fold must have seen every category")
        for name in classes:
            i = by_class[name]
            columns.append(np.asarray(estimator.coef_[i], dtype=np.float64))
            intercepts.append(float(estimator.intercept_[i]))
            sig_a.append(float(fold.calibrators[i].a_))
            sig_b.append(float(fold.calibrators[i].b_))
    return CompiledModel(
        classes=classes,
        word_vocabulary={str(k): int(v) for k, v in fitted.word_vectorizer.vocabulary_.items()},
        word_idf=np.asarray(fitted.word_vectorizer.idf_, dtype=np.float64),
        char_vocabulary={str(k): int(v) for k, v in fitted.char_vectorizer.vocabulary_.items()},
        char_idf=np.asarray(fitted.char_vectorizer.idf_, dtype=np.float64),
        weights=np.ascontiguousarray(np.stack(columns, axis=1)),
        intercepts=np.asarray(intercepts),
        sigmoid_a=np.asarray(sig_a),
        sigmoid_b=np.asarray(sig_b),
    )
