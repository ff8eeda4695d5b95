"""The matcher's arrays, kept so that one changed answer costs an update, not a refit.

Refitting from every evidence vector after each rating is fine at a thousand verified
questions and hopeless at a hundred thousand, in every replica. Two facts make updates cheap:

* **The ridge classifier needs only sums.** Its closed form reads the samples through their
  Gram matrix, their sum and count, and per class the sum and count of that class's samples
  (see :class:`RidgeSums`). Adding or removing a class adds or subtracts its few samples;
  the weights then follow from one d×d solve (d = 384 for e5-small), whatever the number of
  classes, and a question's scores from one product with the classes' sums. The result is
  the same classifier a refit gives (tested against the textbook solve).
* **Arrays only grow.** A changed class gets a new slot and its old slot is marked dead, so
  a snapshot a request is still deciding with never sees a half-written row: it holds its
  own row counts and its own copy of the small per-slot arrays (alive flags, counts).
  When dead slots outnumber live ones the owner rebuilds from the live candidates.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class GrowingRows:
    """An append-only float32 matrix. :meth:`view` is what a snapshot keeps: rows appended
    later land beyond its end (or in a new buffer), never inside it."""

    def __init__(self) -> None:
        self._data: np.ndarray | None = None
        self.length = 0

    def append(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.float32)
        if not rows.size:
            return
        rows = rows.reshape(len(rows), -1)
        needed = self.length + len(rows)
        if self._data is None or needed > len(self._data):
            capacity = max(needed, 64, 2 * (0 if self._data is None else len(self._data)))
            grown = np.zeros((capacity, rows.shape[1]), np.float32)
            if self._data is not None:
                grown[: self.length] = self._data[: self.length]
            self._data = grown
        self._data[self.length : needed] = rows
        self.length = needed

    def view(self) -> np.ndarray:
        if self._data is None:
            return np.zeros((0, 0), np.float32)
        return self._data[: self.length]

    @property
    def nbytes(self) -> int:
        return 0 if self._data is None else self._data.nbytes


class GrowingLabels:
    """An append-only integer column beside :class:`GrowingRows` (which slot a row is of)."""

    def __init__(self, dtype: type = np.int32) -> None:
        self._data = np.zeros(64, dtype)
        self.length = 0

    def append(self, values: Sequence[int] | np.ndarray) -> None:
        values = np.asarray(values, dtype=self._data.dtype)
        needed = self.length + len(values)
        if needed > len(self._data):
            grown = np.zeros(max(needed, 2 * len(self._data)), self._data.dtype)
            grown[: self.length] = self._data[: self.length]
            self._data = grown
        self._data[self.length : needed] = values
        self.length = needed

    def view(self) -> np.ndarray:
        return self._data[: self.length]

    @property
    def nbytes(self) -> int:
        return self._data.nbytes


@dataclass(frozen=True)
class RidgeSums:
    """Sufficient statistics of a one-vs-rest ridge classifier with ±1 targets.

    With X the samples, Y their ±1 class targets, μ and ȳ the column means, the fit is
    W = (XcᵀXc + αI)⁻¹ XcᵀYc with XcᵀXc = G − nμμᵀ and XcᵀYc[:, c] = 2·S_c − s − n·ȳ_c·μ,
    where G = XᵀX, s = Σx, n the sample count, S_c and n_c the sum and count of class c's
    samples, ȳ_c = (2n_c − n)/n. A question v scores (v − μ)ᵀW + ȳ: with u = A⁻¹(v − μ),
    score_c = 2u·S_c − u·s − n·ȳ_c·(u·μ) + ȳ_c — one product with the class sums.
    """

    gram: np.ndarray
    total: np.ndarray
    count: int

    @classmethod
    def empty(cls, width: int) -> "RidgeSums":
        return cls(np.zeros((width, width)), np.zeros(width), 0)

    def plus(self, samples: np.ndarray, sign: int = 1) -> "RidgeSums":
        samples = np.asarray(samples, dtype=np.float64)
        return RidgeSums(
            self.gram + sign * (samples.T @ samples),
            self.total + sign * samples.sum(0),
            self.count + sign * len(samples),
        )

    def solver(self, alpha: float) -> "RidgeSolver":
        mean = self.total / self.count
        centred = self.gram - self.count * np.outer(mean, mean)
        inverse = np.linalg.inv(centred + alpha * np.eye(len(mean)))
        return RidgeSolver(inverse.astype(np.float32), mean.astype(np.float32), self)


@dataclass(frozen=True)
class RidgeSolver:
    inverse: np.ndarray
    mean: np.ndarray
    sums: RidgeSums

    def scores(
        self, vector: np.ndarray, class_sums: np.ndarray, class_counts: np.ndarray
    ) -> np.ndarray:
        """Every slot's score for ``vector`` (dead slots have count 0 and are masked by the
        caller)."""
        n = self.sums.count
        u = self.inverse @ (np.asarray(vector, np.float32) - self.mean)
        y_mean = (2.0 * class_counts - n) / n
        shared = float(u @ self.sums.total) + n * float(u @ self.mean) * y_mean
        return 2.0 * (class_sums @ u) - shared + y_mean
