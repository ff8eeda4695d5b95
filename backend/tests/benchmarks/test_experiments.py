"""The experiments benchmark's truths and figures: the simulated arms differ exactly as
claimed, and the report counts what the decisions said."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from app.experiments.decision import DecisionRules, Outcome
from benchmarks.experiments import (
    CONTROL,
    RATINGS,
    doubled_negative,
    shifted_up,
    simulate,
    simulation_report,
)


def test_the_better_arm_is_better_by_exactly_the_shift_and_the_harmful_one_twice_as_negative():
    assert shifted_up(CONTROL, 0.3) @ RATINGS == pytest.approx(CONTROL @ RATINGS + 0.3)
    assert doubled_negative(CONTROL)[:2].sum() == pytest.approx(2 * CONTROL[:2].sum())
    for p in (shifted_up(CONTROL, 0.3), doubled_negative(CONTROL)):
        assert p.sum() == pytest.approx(1) and (p >= 0).all()


def test_a_simulated_experiment_ends_with_the_decision_of_the_service_code():
    rules = DecisionRules(min_clients_per_arm=30, max_clients_per_arm=400)
    result = simulate(CONTROL, shifted_up(CONTROL, 1.0), 0.5, np.random.default_rng(1), rules)
    assert (result["outcome"], result["arm"]) == (Outcome.WINNER, "B")
    assert result["rated"] == result["trace"][-1][0] and result["trace"][-1][1] < 0.05


def run(outcome, arm, rated=100, challenger=50):
    return {"outcome": outcome, "arm": arm, "rated": rated, "challenger_rated": challenger}


def test_the_report_counts_false_winners_power_and_guardrail_stops():
    results = {
        "aa": [run(Outcome.WINNER, "A"), run(Outcome.NO_DIFFERENCE, None),
               run(Outcome.STOP_ARM, "B"), run(Outcome.NO_DIFFERENCE, None)],
        "better": [run(Outcome.WINNER, "B", 300), run(Outcome.WINNER, "B", 500),
                   run(Outcome.WINNER, "B", 400), run(Outcome.NO_DIFFERENCE, None)],
        "guardrail_canary": [run(Outcome.STOP_ARM, "B", challenger=120),
                             run(Outcome.STOP_ARM, "B", challenger=250),
                             run(Outcome.WINNER, "A", challenger=90),
                             run(Outcome.STOP_ARM, "B", challenger=40)],
        "guardrail_even": [run(Outcome.STOP_ARM, "B")] * 4,
    }  # fmt: skip

    report = simulation_report(results)

    assert report["aa_false_winner_rate"] == 0.25
    assert report["aa_guardrail_false_stop_rate"] == 0.25
    assert report["power_at_0_3_stars"] == 0.75
    assert report["median_rated_answers_to_decide"] == 400
    assert report["guardrail_stop_rate"] == 0.5, "one stopped too late, one lost on the mean"
    assert report["harmful_canary_stopped_early_rate"] == 0.75
    assert report["guardrail_stop_rate_even_split"] == 1.0
