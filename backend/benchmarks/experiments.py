"""Does the experiment decision find what is there, and only that? And does a canary go
all the way through the running service?

    python -m benchmarks.experiments [--runs 200] [--out DIR] [--no-service]

**Simulated experiments** with known truths, decided by ``app.experiments.decision.decide``
— the function the worker's look calls — at a look every ``LOOK_EVERY`` rated answers (the
worker looks every minute; a look per handful of ratings is more often than it, so the
error rates measured here are if anything higher than the service's). Each rated answer
comes from a new client. Residents' ratings in the control arm follow
``CONTROL`` (mean 3.92★, 14 % negative):

* **A/A** — two identical arms, 50/50: the share of experiments that declare a winner
  (target ≤ 5 %) and that the guardrail stops;
* **+0.3★** — the challenger's ratings shifted toward 5★ by 0.3★ on average, 50/50: the
  share of experiments that declare it the winner (target ≥ 0.9) and the median number of
  rated answers (both arms) it took;
* **guardrail** — the challenger's negative share doubled (28 %), as a canary gets it
  (``CANARY_SHARE`` 10 %) and at 50/50: the share stopped by the guardrail before the
  challenger had 200 rated answers (target ≥ 0.9).

**The service end to end**: a real service on an embedded database with a local model
(a tiny GPT-2 built here, registered as two candidate versions), a canary experiment for
each, simulated residents asking and rating through the HTTP API with distinct addresses,
and the worker's look (``app.experiments.referee``) between rounds: the canary residents
like less is rolled back, the one they like more is promoted, and the service then answers
everyone with it.

Writes ``DIR/report.json``, ``DIR/experiments.md`` and ``DIR/experiments.png``.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from app.experiments.decision import ArmOutcomes, DecisionRules, Outcome, decide
from benchmarks.dataset import RESULTS_DIR

LOOK_EVERY = 5
CONTROL = np.array([0.08, 0.06, 0.14, 0.30, 0.42])
RATINGS = np.arange(1, 6)
TARGETS = {"aa_false_winner_rate": 0.05, "power_at_0_3_stars": 0.9, "guardrail_stop_rate": 0.9}


def shifted_up(p: np.ndarray, by: float) -> np.ndarray:
    """``p`` with its mean raised by ``by`` stars: mass moved proportionally to 5★."""
    weight = by / (5 - float(p @ RATINGS))
    moved = (1 - weight) * p
    moved[4] += weight
    return moved


def doubled_negative(p: np.ndarray) -> np.ndarray:
    """``p`` with twice the share of 1★ and 2★, taken from 4★ and 5★ in proportion."""
    moved = p.copy()
    moved[:2] *= 2
    moved[3:] *= (1 - moved[:3].sum()) / p[3:].sum()
    return moved


SCENARIOS = {
    "aa": (CONTROL, CONTROL, 0.5),
    "better": (CONTROL, shifted_up(CONTROL, 0.3), 0.5),
    "guardrail_canary": (CONTROL, doubled_negative(CONTROL), 0.1),
    "guardrail_even": (CONTROL, doubled_negative(CONTROL), 0.5),
}


def outcomes(name: str, ratings: list[int], control: bool) -> ArmOutcomes:
    return ArmOutcomes(name, tuple(map(float, ratings)),
                       tuple(float(r <= 2) for r in ratings), control)  # fmt: skip


def simulate(control: np.ndarray, challenger: np.ndarray, share: float, rng, rules) -> dict:
    """One experiment until its decision (or the size limit): who won, after how many."""
    arms: dict[str, list[int]] = {"A": [], "B": []}
    trace = []
    limit = rules.max_clients_per_arm
    while min(len(arms["A"]), len(arms["B"])) < limit:
        for _ in range(LOOK_EVERY):
            arm = "B" if rng.random() < share else "A"
            arms[arm].append(int(rng.choice(RATINGS, p=challenger if arm == "B" else control)))
        if min(len(arms["A"]), len(arms["B"])) < 2:
            continue
        decision = decide([outcomes("A", arms["A"], True), outcomes("B", arms["B"], False)], rules)
        tested = decision.arms[1]
        if min(len(arms["A"]), len(arms["B"])) >= rules.guardrail_min_clients:
            trace.append((len(arms["A"]) + len(arms["B"]), tested.rating_vs_control.p_value,
                          tested.negative_vs_control.p_value))  # fmt: skip
        if decision.outcome != Outcome.CONTINUE:
            break
    return {
        "outcome": str(decision.outcome),
        "arm": decision.arm,
        "rated": len(arms["A"]) + len(arms["B"]),
        "challenger_rated": len(arms["B"]),
        "trace": trace,
    }


def run_scenarios(runs: int, seed: int) -> dict[str, list[dict]]:
    rules = DecisionRules()
    results = {}
    for name, (control, challenger, share) in SCENARIOS.items():
        rng = np.random.default_rng(seed)
        started = time.perf_counter()
        results[name] = [simulate(control, challenger, share, rng, rules) for _ in range(runs)]
        print(f"{name}: {runs} experiments in {time.perf_counter() - started:.0f} s", flush=True)
    return results


def rate(results: list[dict], predicate) -> float:
    return round(sum(1 for r in results if predicate(r)) / len(results), 4)


def guard_stopped(result: dict) -> bool:
    """The challenger was stopped by the guardrail before it had 200 rated answers."""
    return (result["outcome"], result["arm"]) == (Outcome.STOP_ARM, "B") and (
        result["challenger_rated"] < 200
    )


def stopped_early(result: dict) -> bool:
    """The challenger stopped before 200 rated answers by any rule (guardrail, or the
    control declared better)."""
    lost = (result["outcome"], result["arm"]) in ((Outcome.STOP_ARM, "B"), (Outcome.WINNER, "A"))
    return lost and result["challenger_rated"] < 200


def challenger_won(result: dict) -> bool:
    return (result["outcome"], result["arm"]) == (Outcome.WINNER, "B")


def simulation_report(results: dict[str, list[dict]]) -> dict:
    won = [r["rated"] for r in results["better"] if challenger_won(r)]
    aa = results["aa"]
    return {
        "runs_per_scenario": len(aa),
        "look_every_rated_answers": LOOK_EVERY,
        "aa_false_winner_rate": rate(aa, lambda r: r["outcome"] == Outcome.WINNER),
        "aa_guardrail_false_stop_rate": rate(aa, lambda r: r["outcome"] == Outcome.STOP_ARM),
        "power_at_0_3_stars": rate(results["better"], challenger_won),
        "median_rated_answers_to_decide": int(np.median(won)) if won else None,
        "guardrail_stop_rate": rate(results["guardrail_canary"], guard_stopped),
        "guardrail_stop_rate_even_split": rate(results["guardrail_even"], guard_stopped),
        "harmful_canary_stopped_early_rate": rate(results["guardrail_canary"], stopped_early),
    }


def render_markdown(report: dict) -> str:
    goal = {name: f"≥ {value}" for name, value in report["targets"].items()}
    goal["aa_false_winner_rate"] = f"≤ {report['targets']['aa_false_winner_rate']}"
    goal["canary_rolled_back"] = goal["canary_promoted"] = "true"
    labels = {
        "aa_false_winner_rate": "A/A: false winners",
        "aa_guardrail_false_stop_rate": "A/A: arms stopped by the guardrail",
        "power_at_0_3_stars": "+0.3★ found (power)",
        "median_rated_answers_to_decide": "median rated answers to decide (+0.3★)",
        "guardrail_stop_rate": "2× negative share stopped by the guardrail < 200 (canary 10 %)",
        "harmful_canary_stopped_early_rate": "… stopped by any rule < 200 (canary 10 %)",
        "guardrail_stop_rate_even_split": "… by the guardrail < 200 at 50/50",
        "canary_rolled_back": "canary rolled back (service)",
        "canary_promoted": "canary promoted (service)",
    }
    rows = [(label, report.get(key), goal.get(key, "—")) for key, label in labels.items()]
    lines = [
        "# Experiments: the decision on simulated traffic, canaries through the service",
        "",
        f"{report['runs_per_scenario']} simulated experiments per scenario, a look every "
        f"{report['look_every_rated_answers']} rated answers; mSPRT, α = 0.05 (winner), "
        "0.1 one-sided (guardrail).",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        *[f"| {name} | {value} | {target} |" for name, value, target in rows],
    ]
    for canary in report.get("canaries", []):
        lines.append(
            f"\nCanary {canary['version']} at {canary['canary_share']:.0%}: {canary['outcome']} "
            f"({canary['winner']}) after {canary['conversations']} conversations, "
            f"{canary['seconds']} s; version {canary['version_status']}."
        )
    if "answered_by_after_promotion" in report:
        lines.append(
            f"\nAfter promotion, of new conversations not served from the cache the local "
            f"model answered {report['promoted_canary_answers_share']:.0%} "
            f"({report['answered_by_after_promotion']})."
        )
    return "\n".join(lines) + "\n"


def plot(results: dict[str, list[dict]], path: Path) -> None:
    """The always-valid p-values as evidence grew, for the first runs of each scenario,
    against α: the rating test for A/A and +0.3★, the guardrail's for the harmful arm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(14, 4), sharey=True)
    panels = [("aa", "A/A: rating test", 1, 0.05), ("better", "+0.3★: rating test", 1, 0.05),
              ("guardrail_canary", "2× negative, canary 10 %: guardrail", 2, 0.1)]  # fmt: skip
    for axis, (name, title, column, alpha) in zip(axes, panels, strict=True):
        for run in results[name][:25]:
            if run["trace"]:
                rated = [point[0] for point in run["trace"]]
                axis.plot(rated, [point[column] for point in run["trace"]], linewidth=0.8,
                          alpha=0.6)  # fmt: skip
        axis.axhline(alpha, color="black", linestyle="--", linewidth=1)
        axis.set_yscale("log")
        axis.set_title(title)
        axis.set_xlabel("rated answers (both arms)")
    axes[0].set_ylabel("always-valid p-value")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "experiments")
    parser.add_argument("--no-service", action="store_true", help="simulation only")
    args = parser.parse_args(argv)
    results = run_scenarios(args.runs, args.seed)
    report = simulation_report(results) | {"targets": TARGETS}
    if not args.no_service:
        from benchmarks.canary import run_canaries

        truths = {"control": CONTROL, "worse": doubled_negative(CONTROL),
                  "better": shifted_up(CONTROL, 0.6)}  # fmt: skip
        report |= run_canaries(truths, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    (args.out / "experiments.md").write_text(render_markdown(report), encoding="utf-8")
    plot(results, args.out / "experiments.png")
    print(render_markdown(report))
    return report


if __name__ == "__main__":
    main()
