"""Fitting the local model with NumPy alone, into the arrays of :class:`CompiledModel`.

The model: TF-IDF features (word 1–2-grams, character 3–5-grams, sublinear tf, each block
L2-normalised; :mod:`engine.classify.features`), then for each of :data:`FOLDS` calibration folds
one linear SVM per category against the rest, then per fold and category a sigmoid (Platt scaling)
fitted on the decision values of the fold's held-out emails. Classifying averages the folds'
normalised probabilities (:meth:`CompiledModel.probabilities`).

Each SVM is the L2-regularised, squared-hinge-loss problem (the intercept is a regularised
constant feature of value :data:`INTERCEPT_SCALING`)::

    minimise  ½‖w‖² + Σᵢ Cᵢ · max(0, 1 − yᵢ (w · xᵢ))²        Cᵢ = SVM_C × the email's weight

With far fewer emails than features, ``w`` lies in the span of the emails (``w = Σ βᵢ xᵢ``), so
it is solved in that form over the emails' Gram matrix with Newton's method on the active set
(Chapelle, "Training a support vector machine in the primal", 2007) and an exact line search.
The solution is exact, found in a handful of steps, and fully deterministic: nothing random is
involved apart from the seeded assignment of emails to folds.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.classify.compiled import CompiledModel
from engine.classify.features import char_features, features_vector, fit_vocabulary, word_features
from engine.classify.sparse import FloatArray, IndexArray, SparseRows

#: Calibration folds: each fold's SVMs learn from the other folds, its sigmoids from its own emails.
FOLDS = 3
#: Regularisation of the linear SVMs (chosen by cross-validation on the shipped examples).
SVM_C = 0.5
#: The value of the constant feature that carries the intercept (regularised like any weight).
INTERCEPT_SCALING = 1.0
#: Character n-grams must occur in at least this many training emails.
CHAR_MIN_DF = 2
#: Seeds the assignment of emails to calibration folds.
SEED = 20261130
#: Newton steps allowed per SVM (it usually stops after 5 to 15, when the active set is stable).
NEWTON_MAX_STEPS = 100
#: Newton steps allowed per sigmoid.
PLATT_MAX_STEPS = 100

Split = tuple[IndexArray, IndexArray]


@dataclass(frozen=True, eq=False)
class Features:
    """The training emails as TF-IDF rows, with the vocabularies and idf that produced them."""

    word_vocabulary: dict[str, int]
    word_idf: FloatArray
    char_vocabulary: dict[str, int]
    char_idf: FloatArray
    matrix: SparseRows


def featurise(texts: Sequence[str]) -> Features:
    """Build the vocabularies from ``texts`` and turn every text into its TF-IDF row."""
    words = [word_features(t) for t in texts]
    chars = [char_features(t) for t in texts]
    word_vocabulary, word_idf = fit_vocabulary(words)
    char_vocabulary, char_idf = fit_vocabulary(chars, min_df=CHAR_MIN_DF)
    rows = [features_vector(w, c, word_vocabulary=word_vocabulary, word_idf=word_idf,
                            char_vocabulary=char_vocabulary, char_idf=char_idf)
            for w, c in zip(words, chars, strict=True)]
    matrix = SparseRows.from_rows(rows, len(word_vocabulary) + len(char_vocabulary))
    return Features(word_vocabulary, word_idf, char_vocabulary, char_idf, matrix)


def stratified_folds(
    labels: Sequence[str], n_folds: int, *, seed: int, pinned: Sequence[bool] | None = None
) -> list[Split]:
    """(train, test) index arrays for ``n_folds`` folds, each category spread evenly over the folds.

    The order within each category is shuffled with ``seed``. ``pinned`` examples never go to a
    test part: they are in the training part of every fold.
    """
    y = np.asarray(labels)
    pinned_mask = np.zeros(y.size, dtype=bool) if pinned is None else np.asarray(pinned, dtype=bool)
    rng = random.Random(seed)  # the standard library's: numpy.random is left out of the bundle
    fold_of = np.full(y.size, -1, dtype=np.intp)
    offset = 0
    for category in sorted(set(y[~pinned_mask].tolist())):
        members = np.flatnonzero((y == category) & ~pinned_mask).tolist()
        rng.shuffle(members)
        fold_of[members] = (offset + np.arange(len(members))) % n_folds
        offset += len(members)
    always = np.flatnonzero(pinned_mask)
    splits = []
    for fold in range(n_folds):
        test = np.flatnonzero(fold_of == fold)
        train = np.sort(np.concatenate((np.flatnonzero((fold_of != fold) & ~pinned_mask), always)))
        splits.append((train, test))
    return splits


def fit(
    texts: Sequence[str], labels: Sequence[str], weights: Sequence[float], pinned: Sequence[bool]
) -> CompiledModel:
    """Fit the TF-IDF features, the per-fold one-vs-rest SVMs and their sigmoids; return the arrays.

    ``pinned`` examples (staff corrections) are in the training part of every calibration fold,
    so each fold model learns from them; the sigmoids are fitted on the other (shipped) examples.
    """
    features = featurise(texts)
    y = np.asarray(labels)
    sample_weight = np.asarray(weights, dtype=np.float64)
    classes = tuple(sorted(set(y.tolist())))
    kernel = features.matrix.gram() + INTERCEPT_SCALING**2
    n_columns = FOLDS * len(classes)
    coefficients = np.zeros((y.size, n_columns))
    sig_a, sig_b = np.zeros(n_columns), np.zeros(n_columns)
    for fold, (train, test) in enumerate(stratified_folds(labels, FOLDS, seed=SEED, pinned=pinned)):
        train_kernel = kernel[np.ix_(train, train)]
        test_kernel = kernel[np.ix_(test, train)]
        cost = SVM_C * sample_weight[train]
        for k, category in enumerate(classes):
            positive = y[train] == category
            if not positive.any() or positive.all():
                raise ValueError("every calibration fold must see every category and another one")
            beta = train_l2_svm(train_kernel, np.where(positive, 1.0, -1.0), cost)
            column = fold * len(classes) + k
            coefficients[train, column] = beta
            sig_a[column], sig_b[column] = fit_sigmoid(test_kernel @ beta, y[test] == category,
                                                       sample_weight[test])
    return CompiledModel(
        classes=classes,
        word_vocabulary=features.word_vocabulary,
        word_idf=features.word_idf,
        char_vocabulary=features.char_vocabulary,
        char_idf=features.char_idf,
        weights=np.ascontiguousarray(features.matrix.transpose_dot(coefficients)),
        intercepts=INTERCEPT_SCALING**2 * coefficients.sum(axis=0),
        sigmoid_a=sig_a,
        sigmoid_b=sig_b,
    )


def train_l2_svm(kernel: FloatArray, y: FloatArray, cost: FloatArray) -> FloatArray:
    """The SVM's coefficients ``β`` (``w = Σ βᵢ xᵢ``) for labels ``y`` in {−1, +1}.

    ``kernel`` is the Gram matrix of the emails (with the intercept's constant feature included)
    and ``cost`` each email's ``Cᵢ``. Minimises ``½ βᵀKβ + Σ Cᵢ max(0, 1 − yᵢ (Kβ)ᵢ)²`` by
    Newton's method: on the active set ``A`` (emails inside the margin) the minimiser solves
    ``(K_AA + diag(1 / 2C_A)) β_A = y_A`` with ``β = 0`` elsewhere; an exact line search toward
    it keeps every step a descent, and it stops when the active set no longer changes.
    """
    m = y.size
    beta = np.zeros(m)
    margin = np.zeros(m)
    ridge = 0.5 / cost
    active = np.flatnonzero(y * margin < 1.0)
    for _ in range(NEWTON_MAX_STEPS):
        target = np.zeros(m)
        if active.size:
            system = kernel[np.ix_(active, active)]
            system[np.diag_indices_from(system)] += ridge[active]
            target[active] = np.linalg.solve(system, y[active])
        direction = target - beta
        if float(np.abs(direction).max()) <= 1e-12 * max(1.0, float(np.abs(target).max())):
            break  # the Newton target is where we are: optimal
        change = kernel @ direction
        step = _line_search(margin, direction, change, y, cost)
        beta = beta + step * direction
        margin = kernel @ beta
        now_active = np.flatnonzero(y * margin < 1.0)
        if step == 1.0 and np.array_equal(now_active, active):
            break
        active = now_active
    return beta


def _line_search(
    margin: FloatArray, direction: FloatArray, change: FloatArray, y: FloatArray, cost: FloatArray
) -> float:
    """The exact minimiser ``t ≥ 0`` of the SVM objective along ``β + t·direction``.

    Along the line the derivative is ``a + b·t − 2 Σ Cᵢ qᵢ max(0, pᵢ − t qᵢ)`` with ``a = fᵀd``,
    ``b = dᵀKd``, ``pᵢ = 1 − yᵢ fᵢ`` and ``qᵢ = yᵢ (Kd)ᵢ``: piecewise linear and non-decreasing.
    It is evaluated at 0, 1 and every breakpoint ``pᵢ / qᵢ``, and its root is interpolated in the
    first interval where it turns non-negative (exact, since it is linear in there).
    """
    slope_a = float(margin @ direction)
    slope_b = float(direction @ change)
    p = 1.0 - y * margin
    q = y * change

    def derivative(t: FloatArray) -> FloatArray:
        inside = np.maximum(0.0, p[None, :] - t[:, None] * q[None, :])
        result: FloatArray = slope_a + slope_b * t - 2.0 * (inside @ (cost * q))
        return result

    with np.errstate(divide="ignore", invalid="ignore"):
        breaks = p / q
    breaks = breaks[np.isfinite(breaks) & (breaks > 0.0)]
    points = np.unique(np.concatenate(([0.0, 1.0], breaks)))
    values = derivative(points)
    if values[0] >= 0.0:  # no descent along the direction (already optimal)
        return 0.0
    above = np.flatnonzero(values >= 0.0)
    if above.size:
        j = int(above[0])
        lo, hi, v_lo, v_hi = points[j - 1], points[j], values[j - 1], values[j]
    else:  # beyond the last breakpoint the derivative is one straight line
        lo, hi = points[-1], points[-1] + 1.0
        v_lo, v_hi = values[-1], float(derivative(np.array([hi]))[0])
        if v_hi <= v_lo:
            return float(points[-1])
    root = lo + (hi - lo) * (-v_lo) / (v_hi - v_lo)
    # the full Newton step is usually exact: snap rounding noise to it so convergence is detected
    return 1.0 if abs(root - 1.0) <= 1e-12 else float(root)


def fit_sigmoid(
    decision: FloatArray, positive: npt.NDArray[np.bool_], weights: FloatArray
) -> tuple[float, float]:
    """Platt scaling: ``(a, b)`` so that ``1 / (1 + exp(a·f + b))`` is the probability of the category.

    Minimises the weighted cross-entropy against Platt's smoothed targets (``(N₊ + 1) / (N₊ + 2)``
    for the category's emails, ``1 / (N₋ + 2)`` for the others, with weighted counts) by Newton's
    method with a backtracking line search (Lin, Lin and Weng, 2007).
    """
    prior1 = float(weights[positive].sum())
    prior0 = float(weights[~positive].sum())
    target = np.where(positive, (prior1 + 1.0) / (prior1 + 2.0), 1.0 / (prior0 + 2.0))
    params = np.array([0.0, np.log((prior0 + 1.0) / (prior1 + 1.0))])

    def loss(ab: FloatArray) -> float:
        z = ab[0] * decision + ab[1]
        return float(weights @ (np.logaddexp(0.0, z) - (1.0 - target) * z))

    value = loss(params)
    for _ in range(PLATT_MAX_STEPS):
        z = params[0] * decision + params[1]
        prob = 0.5 * (1.0 + np.tanh(-0.5 * z))  # 1 / (1 + exp(z)) without overflow
        residual = weights * (target - prob)  # d loss / dz
        gradient = np.array([residual @ decision, residual.sum()])
        if float(np.abs(gradient).max()) < 1e-10 * max(1.0, float(weights.sum())):
            break
        curvature = weights * prob * (1.0 - prob)
        hessian = np.array([[curvature @ decision**2, curvature @ decision],
                            [curvature @ decision, curvature.sum()]]) + 1e-12 * np.eye(2)
        step = -np.linalg.solve(hessian, gradient)
        size = 1.0
        while size >= 1e-10:
            candidate = params + size * step
            new_value = loss(candidate)
            # sufficient decrease, or (near the optimum) no change beyond the loss's rounding error
            if new_value <= value + 1e-4 * size * float(gradient @ step) + 1e-13 * abs(value):
                break
            size /= 2.0
        else:  # no decrease possible along the Newton direction: at the optimum up to rounding
            break
        params, value = candidate, new_value
    return float(params[0]), float(params[1])
