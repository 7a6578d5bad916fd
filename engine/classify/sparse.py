"""A small compressed-sparse-row matrix in NumPy: the TF-IDF rows of the training emails.

Training needs three products of the (emails × features) matrix ``X`` and nothing else: the Gram
matrix ``X Xᵀ`` (the linear kernel between emails), ``Xᵀ B`` (turning per-email coefficients into
feature weights) and ``X W`` (decision values). Each is done with index arrays, ``np.bincount``
and one dense BLAS product, so no SciPy is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

#: Features that occur in at least this many emails go through a dense matrix product in
#: :meth:`SparseRows.gram`; the rarer ones through pairs of entries sharing a feature.
DENSE_MIN_DF = 16

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]


@dataclass(frozen=True, eq=False)
class SparseRows:
    """Rows stored as CSR: row ``i`` holds ``values[indptr[i]:indptr[i + 1]]`` at ``indices[...]``.

    Column indices within a row are unique (their order does not matter).
    """

    indptr: IndexArray
    indices: IndexArray
    values: FloatArray
    n_columns: int

    def __post_init__(self) -> None:
        """Check the arrays describe a matrix (a bug here would give silently wrong models)."""
        ok = (
            self.indptr.ndim == 1
            and self.indptr.size >= 1
            and int(self.indptr[0]) == 0
            and int(self.indptr[-1]) == self.indices.size == self.values.size
            and bool(np.all(np.diff(self.indptr) >= 0))
            and (self.indices.size == 0 or (int(self.indices.min()) >= 0
                                            and int(self.indices.max()) < self.n_columns))
        )
        if not ok:
            raise ValueError("inconsistent sparse rows")

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[IndexArray, FloatArray]], n_columns: int) -> SparseRows:
        """Stack sparse row vectors ``(column indices, values)``."""
        lengths = np.fromiter((len(index) for index, _ in rows), dtype=np.intp, count=len(rows))
        indptr = np.zeros(len(rows) + 1, dtype=np.intp)
        np.cumsum(lengths, out=indptr[1:])
        if rows:
            indices = np.concatenate([np.asarray(index, dtype=np.intp) for index, _ in rows])
            values = np.concatenate([np.asarray(value, dtype=np.float64) for _, value in rows])
        else:
            indices, values = np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
        return cls(indptr, indices, values, n_columns)

    @property
    def n_rows(self) -> int:
        """Number of rows (emails)."""
        return int(self.indptr.size - 1)

    @cached_property
    def row_of(self) -> IndexArray:
        """The row of every stored entry."""
        return np.repeat(np.arange(self.n_rows, dtype=np.intp), np.diff(self.indptr))

    def rows(self, selected: IndexArray) -> SparseRows:
        """A new matrix of the ``selected`` rows, in that order."""
        starts, stops = self.indptr[selected], self.indptr[selected + 1]
        lengths = stops - starts
        indptr = np.zeros(selected.size + 1, dtype=np.intp)
        np.cumsum(lengths, out=indptr[1:])
        take = np.repeat(starts - indptr[:-1], lengths) + np.arange(int(indptr[-1]), dtype=np.intp)
        return SparseRows(indptr, self.indices[take], self.values[take], self.n_columns)

    def dot(self, dense: FloatArray) -> FloatArray:
        """``X @ dense`` for a (features × m) array: (rows × m)."""
        out = np.zeros((self.n_rows, dense.shape[1]), dtype=np.float64)
        for k in range(dense.shape[1]):
            products = self.values * dense[self.indices, k]
            out[:, k] = np.bincount(self.row_of, weights=products, minlength=self.n_rows)
        return out

    def transpose_dot(self, dense: FloatArray) -> FloatArray:
        """``Xᵀ @ dense`` for a (rows × m) array: (features × m)."""
        out = np.zeros((self.n_columns, dense.shape[1]), dtype=np.float64)
        for k in range(dense.shape[1]):
            products = self.values * dense[self.row_of, k]
            out[:, k] = np.bincount(self.indices, weights=products, minlength=self.n_columns)
        return out

    def gram(self) -> FloatArray:
        """``X @ Xᵀ`` (rows × rows): frequent features by a dense product, rare ones by entry pairs."""
        n = self.n_rows
        df = np.bincount(self.indices, minlength=self.n_columns)
        dense_columns = np.flatnonzero(df >= DENSE_MIN_DF)
        position = np.full(self.n_columns, -1, dtype=np.intp)
        position[dense_columns] = np.arange(dense_columns.size, dtype=np.intp)
        in_dense = position[self.indices] >= 0
        block = np.zeros((n, dense_columns.size), dtype=np.float64)
        block[self.row_of[in_dense], position[self.indices[in_dense]]] = self.values[in_dense]
        result: FloatArray = block @ block.T
        # rare features: every pair of entries in the same column adds value × value to K[row, row']
        rare = ~in_dense
        order = np.argsort(self.indices[rare], kind="stable")
        columns = self.indices[rare][order]
        rows = self.row_of[rare][order]
        values = self.values[rare][order]
        if columns.size:
            starts = np.flatnonzero(np.r_[True, columns[1:] != columns[:-1]])
            sizes = np.diff(np.r_[starts, columns.size])
            per_entry = np.repeat(sizes, sizes)  # each entry pairs with every entry of its column
            group_start = np.repeat(starts, sizes)
            first = np.cumsum(per_entry) - per_entry
            left = np.repeat(np.arange(columns.size, dtype=np.intp), per_entry)
            right = group_start[left] + (np.arange(int(per_entry.sum()), dtype=np.intp) - first[left])
            pairs = np.bincount(rows[left] * n + rows[right], weights=values[left] * values[right],
                                minlength=n * n)
            result += pairs.reshape(n, n)
        return result
