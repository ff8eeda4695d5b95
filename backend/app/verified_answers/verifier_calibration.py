"""Serving thresholds from an error rate the operator sets (``CACHE_MAX_ERROR_RATE``, δ).

Anchor: vCache (arXiv 2502.03771) — per-entry thresholds learned from what happened when
each entry was served beat any static threshold, under a user-defined error bound. Here the
evidence is the verifier's out-of-fold probabilities on labelled pairs (an answer's own
held-out phrasings, the rival answers they were nearly taken for, the judge's verdicts,
served answers refused afterwards), each with the answer it was about.

* **Pooled threshold**: the lowest probability at which the 95 % Wilson upper bound of the
  wrong-serve share (wrong serves over all decisions) is ≤ δ. Few pairs make the bound wide
  and the threshold high: with little evidence the verifier is conservative.
* **The judge's band**: as far down as the wrong serves it would add — the judge errs too
  (``CACHE_JUDGE_ERROR_RATE``) — keep the bound ≤ δ.
* **Each answer's own threshold**: its wrong-serve share shrunk towards the pooled bound
  with the weight of :data:`PRIOR_WEIGHT` decisions. An answer with no evidence of its
  own serves at the pooled threshold; one with much clean evidence serves its paraphrases
  lower; one that was served wrongly serves higher.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

#: The thresholds considered, in steps of 0.01.
GRID = np.round(np.linspace(0.0, 1.0, 101), 2)
#: How many decisions the pooled estimate counts as, against an answer's own evidence.
PRIOR_WEIGHT = 50.0
Z_95 = 1.959964
NEVER = 1.01


def wilson_interval(errors: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """The 95 % Wilson score interval of a proportion (``errors`` may be an expected,
    fractional count)."""
    if n <= 0:
        return 0.0, 1.0
    share = errors / n
    centre = share + z * z / (2 * n)
    spread = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


@dataclass(frozen=True)
class Calibration:
    serve_at: float
    ask_from: float
    per_answer: dict[str, float] = field(default_factory=dict)


def calibrate(
    probabilities: np.ndarray,
    labels: np.ndarray,
    keys: Sequence[str],
    max_error_rate: float,
    judge_error: float,
) -> Calibration:
    p = np.asarray(probabilities, np.float64)
    wrong_pair = np.asarray(labels) == 0
    n = len(p)
    wrong_at = np.array([np.sum(wrong_pair & (p >= t)) for t in GRID])
    upper = np.array([wilson_interval(w, n)[1] for w in wrong_at])
    fine = np.flatnonzero(upper <= max_error_rate)
    if not len(fine):
        return Calibration(NEVER, NEVER)
    serve_index = int(fine[0])
    serve_at = float(GRID[serve_index])
    ask_from = serve_at
    for index in range(serve_index - 1, -1, -1):
        band = wrong_pair & (p >= GRID[index]) & (p < serve_at)
        judged_wrong = wrong_at[serve_index] + judge_error * band.sum()
        if wilson_interval(judged_wrong, n)[1] > max_error_rate:
            break
        ask_from = float(GRID[index])
    per_answer = _per_answer(p, wrong_pair, np.asarray(keys), upper, serve_at, max_error_rate)
    return Calibration(serve_at, ask_from, per_answer)


def _per_answer(
    p: np.ndarray,
    wrong_pair: np.ndarray,
    keys: np.ndarray,
    pooled_upper: np.ndarray,
    serve_at: float,
    max_error_rate: float,
) -> dict[str, float]:
    """Each answer's lowest threshold whose shrunk wrong-serve share is ≤ δ, kept where it
    differs from the pooled one."""
    found: dict[str, float] = {}
    for key in np.unique(keys):
        own = keys == key
        n_own = int(own.sum())
        for index, t in enumerate(GRID):
            wrong_own = np.sum(own & wrong_pair & (p >= t))
            shrunk = (wrong_own + PRIOR_WEIGHT * pooled_upper[index]) / (n_own + PRIOR_WEIGHT)
            if shrunk <= max_error_rate:
                threshold = float(t)
                break
        else:
            threshold = NEVER
        if threshold != serve_at:
            found[str(key)] = threshold
    return found


def outcome_at(
    probabilities: np.ndarray,
    labels: np.ndarray,
    keys: Sequence[str],
    calibration: Calibration,
    judge_error: float,
) -> dict:
    """What the calibrated verifier does on labelled pairs: the share of right pairs served
    (recall, the judge's band counted at 1 − its error), the wrong-serve share with its
    95 % interval, precision and the judge's share of decisions."""
    p = np.asarray(probabilities, np.float64)
    right = np.asarray(labels) == 1
    threshold = np.array([min(calibration.per_answer.get(str(k), calibration.serve_at), NEVER)
                          for k in keys])  # fmt: skip
    served = p >= threshold
    band = ~served & (p >= np.minimum(calibration.ask_from, threshold))
    served_right = np.sum(served & right) + (1 - judge_error) * np.sum(band & right)
    served_wrong = np.sum(served & ~right) + judge_error * np.sum(band & ~right)
    n = max(len(p), 1)
    low, high = wilson_interval(served_wrong, n)
    return {
        "pairs": len(p),
        "recall": round(float(served_right / max(right.sum(), 1)), 4),
        "precision": round(float(served_right / max(served_right + served_wrong, 1e-9)), 4),
        "wrong_share": round(float(served_wrong / n), 4),
        "wrong_interval": [round(low, 4), round(high, 4)],
        "judge_share": round(float(band.sum() / n), 4),
    }
