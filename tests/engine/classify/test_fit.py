"""The NumPy training pieces: the sparse matrix products, the folds, the SVM and the sigmoid."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from engine.classify import sparse
from engine.classify.fit import fit_sigmoid, stratified_folds, train_l2_svm
from engine.classify.sparse import SparseRows


def _random_rows(seed: int, n_rows: int = 40, n_columns: int = 300) -> tuple[SparseRows, np.ndarray]:
    """A random sparse matrix (some empty rows, some columns in many rows) and its dense twin."""
    rng = np.random.default_rng(seed)
    dense = np.zeros((n_rows, n_columns))
    for i in range(n_rows):
        if i % 7 == 3:
            continue  # an empty row
        columns = rng.choice(n_columns, size=int(rng.integers(1, 40)), replace=False)
        columns[: min(3, columns.size)] = np.arange(min(3, columns.size))  # frequent columns
        dense[i, np.unique(columns)] = rng.normal(size=np.unique(columns).size)
    rows = [(np.flatnonzero(r), r[np.flatnonzero(r)]) for r in dense]
    return SparseRows.from_rows(rows, n_columns), dense


@pytest.mark.parametrize("dense_min_df", [1, 5, 1000])
def test_sparse_products_match_dense_ones(monkeypatch: pytest.MonkeyPatch, dense_min_df: int) -> None:
    monkeypatch.setattr(sparse, "DENSE_MIN_DF", dense_min_df)  # all dense, mixed, all pairs
    matrix, dense = _random_rows(dense_min_df)
    other = np.random.default_rng(1).normal(size=(dense.shape[1], 4))
    coefficients = np.random.default_rng(2).normal(size=(dense.shape[0], 3))
    np.testing.assert_allclose(matrix.gram(), dense @ dense.T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(matrix.dot(other), dense @ other, rtol=0, atol=1e-12)
    np.testing.assert_allclose(matrix.transpose_dot(coefficients), dense.T @ coefficients, rtol=0, atol=1e-12)
    picked = np.array([5, 3, 0, 39])
    np.testing.assert_allclose(matrix.rows(picked).dot(other), dense[picked] @ other, rtol=0, atol=1e-12)


def test_inconsistent_sparse_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        SparseRows(np.array([0, 2]), np.array([0, 5]), np.array([1.0, 1.0]), n_columns=5)
    with pytest.raises(ValueError, match="inconsistent"):
        SparseRows(np.array([0, 3]), np.array([0, 1]), np.array([1.0, 1.0]), n_columns=5)


def test_folds_are_stratified_deterministic_and_keep_pinned_examples_in_training() -> None:
    labels = ["a"] * 10 + ["b"] * 7 + ["c"] * 5
    pinned = [False] * 20 + [True, True]
    splits = stratified_folds(labels, 3, seed=4, pinned=pinned)
    tested = np.concatenate([test for _, test in splits])
    assert sorted(tested.tolist()) == list(range(20))  # every unpinned example is held out once
    for train, test in splits:
        assert not set(train.tolist()) & set(test.tolist())
        assert {20, 21} <= set(train.tolist())
        assert len(train) + len(test) == 22
    per_fold = [Counter(labels[i] for i in test) for _, test in splits]
    for label in "abc":
        counts = [c[label] for c in per_fold]
        assert max(counts) - min(counts) <= 1
    assert max(len(t) for _, t in splits) - min(len(t) for _, t in splits) <= 1
    again = stratified_folds(labels, 3, seed=4, pinned=pinned)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, again, strict=True))
    other = stratified_folds(labels, 3, seed=5, pinned=pinned)
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(splits, other, strict=True))


def _svm_objective(kernel: np.ndarray, y: np.ndarray, cost: np.ndarray, beta: np.ndarray) -> float:
    margin = kernel @ beta
    return float(0.5 * beta @ margin + cost @ np.maximum(0.0, 1.0 - y * margin) ** 2)


def test_the_svm_reaches_the_minimum_on_overlapping_classes() -> None:
    rng = np.random.default_rng(3)
    points = np.vstack((rng.normal(0.0, 1.0, size=(30, 5)), rng.normal(0.7, 1.0, size=(30, 5))))
    kernel = points @ points.T + 1.0
    y = np.r_[np.ones(30), -np.ones(30)]
    cost = rng.uniform(0.2, 3.0, size=60)
    beta = train_l2_svm(kernel, y, cost)
    margin = kernel @ beta
    # stationarity: β = 2 C (1 − y f)₊ y, which makes w = Σ βᵢ xᵢ the primal optimum
    np.testing.assert_allclose(beta, 2.0 * cost * np.maximum(0.0, 1.0 - y * margin) * y, atol=1e-10)
    best = _svm_objective(kernel, y, cost, beta)
    for _ in range(50):  # no nearby point is lower
        assert _svm_objective(kernel, y, cost, beta + rng.normal(scale=1e-3, size=60)) >= best
    assert np.mean(np.sign(margin) == y) > 0.7


def test_a_heavier_example_is_pulled_toward_its_side() -> None:
    kernel = np.array([[2.0, 1.9, 1.0], [1.9, 2.0, 1.0], [1.0, 1.0, 2.0]])
    y = np.array([1.0, -1.0, -1.0])  # two nearly identical emails with opposite labels
    light = kernel @ train_l2_svm(kernel, y, np.array([1.0, 1.0, 1.0]))
    heavy = kernel @ train_l2_svm(kernel, y, np.array([10.0, 1.0, 1.0]))
    assert heavy[0] > light[0] + 0.5  # the heavy positive is fitted much more closely
    assert light[1] < 0 < heavy[1]  # ...at the expense of its light twin, now on the positive side


def test_the_sigmoid_is_the_weighted_platt_fit() -> None:
    rng = np.random.default_rng(5)
    decision = np.r_[rng.normal(1.0, 1.0, 40), rng.normal(-1.0, 1.0, 60)]
    positive = np.r_[np.ones(40, dtype=bool), np.zeros(60, dtype=bool)]
    weights = rng.uniform(0.5, 2.0, 100)
    a, b = fit_sigmoid(decision, positive, weights)
    n_pos, n_neg = weights[positive].sum(), weights[~positive].sum()
    target = np.where(positive, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

    def loss(params: tuple[float, float]) -> float:
        p = 1.0 / (1.0 + np.exp(params[0] * decision + params[1]))
        return float(-(weights * (target * np.log(p) + (1 - target) * np.log(1 - p))).sum())

    best = loss((a, b))
    for da, db in [(1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3), (1e-3, 1e-3), (-1e-3, 1e-3)]:
        assert loss((a + da, b + db)) > best
    assert a < 0


def test_a_sigmoid_on_separable_decisions_stays_finite() -> None:
    decision = np.r_[np.full(5, 3.0), np.full(5, -3.0)]
    positive = np.r_[np.ones(5, dtype=bool), np.zeros(5, dtype=bool)]
    a, b = fit_sigmoid(decision, positive, np.ones(10))
    assert np.isfinite(a) and np.isfinite(b) and a < 0
    a, b = fit_sigmoid(decision, np.zeros(10, dtype=bool), np.ones(10))  # no positives at all
    p = 1.0 / (1.0 + np.exp(a * decision + b))
    assert np.all(p < 0.2)
