"""The promotion gate: a candidate replaces the active model only when it is clearly better.

Both are graded on the same golden set, each as the service would run it (the candidate in
the local model's place, the paid model and offline fallback behind it). The candidate is
promoted when its ``accuracy_score`` beats the active one by at least ``PROMOTION_MARGIN``
*and* none of the other golden figures — share of fully correct answers, accuracy on the
items judged by facts, accuracy on the items judged by meaning — is worse by more than
``PROMOTION_TOLERANCE``. Anything else keeps the active model.
"""

from dataclasses import dataclass

from app.quality.golden_set import GoldenReport


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reasons: list[str]
    candidate: dict
    active: dict


def golden_figures(report: GoldenReport) -> dict[str, float | None]:
    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    return {
        "accuracy_score": round(report.accuracy_score, 4),
        "fully_correct_share": mean([1.0 if i.fully_correct else 0.0 for i in report.items]),
        "facts_accuracy": mean([i.agreement for i in report.items if i.judged_by == "facts"]),
        "meaning_accuracy": mean([i.agreement for i in report.items if i.judged_by == "meaning"]),
    }


def promotion_gate(
    candidate: GoldenReport,
    active: GoldenReport,
    margin: float,
    tolerance: float,
    *,
    local_share: float | None = None,
    cheaper_min_share: float = 0.0,
) -> GateDecision:
    """Better by ``margin`` with nothing worse than ``tolerance``: promoted. With
    ``cheaper_min_share`` > 0 (``PROMOTION_CHEAPER_MIN_SHARE``) a candidate that answers at
    least that share of the golden questions itself (``local_share``: no paid call) is also
    promoted when it is *as good* — no figure, accuracy included, worse than ``tolerance`` —
    because it then costs less for the same quality."""
    ours, theirs = golden_figures(candidate), golden_figures(active)
    regressions = _regressions(ours, theirs, tolerance)
    gain = ours["accuracy_score"] - theirs["accuracy_score"]
    reasons = list(regressions)
    if gain + 1e-9 < margin:
        reasons.insert(0, f"accuracy {ours['accuracy_score']:.3f} does not beat the active "
                          f"{theirs['accuracy_score']:.3f} by {margin:.3f}")  # fmt: skip
    if not reasons:
        reasons.append(f"accuracy {theirs['accuracy_score']:.3f} → {ours['accuracy_score']:.3f}")
        return GateDecision(True, reasons, ours, theirs)
    if cheaper_min_share > 0 and local_share is not None:
        as_good = not regressions and theirs["accuracy_score"] - ours["accuracy_score"] <= (
            tolerance + 1e-9
        )
        if as_good and local_share + 1e-9 >= cheaper_min_share:
            return GateDecision(True, [
                f"as good (accuracy {theirs['accuracy_score']:.3f} → "
                f"{ours['accuracy_score']:.3f}, tolerance {tolerance:.3f}) and cheaper: "
                f"{local_share:.0%} of golden questions answered without a paid call"
            ], ours | {"local_share": local_share}, theirs)  # fmt: skip
        reasons.append(
            f"not promoted as cheaper: local share {local_share:.0%} "
            f"(needs {cheaper_min_share:.0%}), accuracy within tolerance: {as_good}"
        )
    return GateDecision(False, reasons, ours, theirs)


def _regressions(ours: dict, theirs: dict, tolerance: float) -> list[str]:
    """Secondary figures worse by more than ``tolerance``."""
    reasons = []
    for name in ("fully_correct_share", "facts_accuracy", "meaning_accuracy"):
        if ours[name] is None or theirs[name] is None:
            continue
        if theirs[name] - ours[name] > tolerance + 1e-9:
            reasons.append(
                f"{name} regresses {theirs[name]:.3f} → {ours[name]:.3f} "
                f"(tolerance {tolerance:.3f})"
            )
    return reasons
