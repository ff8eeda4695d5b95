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
    candidate: GoldenReport, active: GoldenReport, margin: float, tolerance: float
) -> GateDecision:
    ours, theirs = golden_figures(candidate), golden_figures(active)
    reasons = []
    gain = ours["accuracy_score"] - theirs["accuracy_score"]
    if gain + 1e-9 < margin:
        reasons.append(
            f"accuracy {ours['accuracy_score']:.3f} does not beat the active "
            f"{theirs['accuracy_score']:.3f} by {margin:.3f}"
        )
    for name in ("fully_correct_share", "facts_accuracy", "meaning_accuracy"):
        if ours[name] is None or theirs[name] is None:
            continue
        if theirs[name] - ours[name] > tolerance + 1e-9:
            reasons.append(
                f"{name} regresses {theirs[name]:.3f} → {ours[name]:.3f} "
                f"(tolerance {tolerance:.3f})"
            )
    promote = not reasons
    if promote:
        reasons.append(f"accuracy {theirs['accuracy_score']:.3f} → {ours['accuracy_score']:.3f}")
    return GateDecision(promote, reasons, ours, theirs)
