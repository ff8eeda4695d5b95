"""A small L2-regularised logistic regression (Newton's method on standardised features).

Ten features and a few thousand pairs: the fit is a handful of 11×11 solves, the model is
a weight per feature an operator can read, and its probabilities are calibrated enough to
set a serving threshold from a wanted error rate. A library classifier would add SciPy
and scikit-learn to a service that otherwise needs neither.
"""

from dataclasses import dataclass

import numpy as np

ITERATIONS = 50


@dataclass(frozen=True)
class LogisticModel:
    mean: np.ndarray
    scale: np.ndarray
    #: Bias first, then one weight per standardised feature.
    weights: np.ndarray

    @classmethod
    def fit(
        cls, features: np.ndarray, labels: np.ndarray, l2: float = 1.0, weights=None
    ) -> "LogisticModel":
        """``weights``: per-pair weights (a judge's verdict may count more than a guess)."""
        features = np.asarray(features, np.float64)
        labels = np.asarray(labels, np.float64)
        if len(np.unique(labels)) < 2:
            raise ValueError("a classifier needs examples of both kinds")
        mean = features.mean(0)
        scale = np.where(features.std(0) > 1e-9, features.std(0), 1.0)
        design = np.hstack([np.ones((len(features), 1)), (features - mean) / scale])
        sample = np.ones(len(labels)) if weights is None else np.asarray(weights, np.float64)
        penalty = l2 * np.eye(design.shape[1])
        penalty[0, 0] = 0.0
        beta = np.zeros(design.shape[1])
        for _ in range(ITERATIONS):
            p = _sigmoid(design @ beta)
            gradient = design.T @ (sample * (p - labels)) + penalty @ beta
            hessian = (design * (sample * p * (1 - p))[:, None]).T @ design + penalty
            step = np.linalg.solve(hessian + 1e-9 * np.eye(len(beta)), gradient)
            beta -= step
            if np.abs(step).max() < 1e-8:
                break
        return cls(mean, scale, beta)

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(the question asks what the answer answers), one per row."""
        standard = (np.atleast_2d(features) - self.mean) / self.scale
        return _sigmoid(self.weights[0] + standard @ self.weights[1:])

    def as_dict(self) -> dict:
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "LogisticModel":
        arrays = [np.asarray(data[k], np.float64) for k in ("mean", "scale", "weights")]
        if not (len(arrays[0]) == len(arrays[1]) == len(arrays[2]) - 1):
            raise ValueError("a logistic model's arrays disagree in length")
        return cls(*arrays)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))
