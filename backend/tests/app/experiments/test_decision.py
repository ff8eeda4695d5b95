"""The experiment decision on fixed data: the mSPRT statistic it computes is the mixture
likelihood ratio (checked by numerical integration), and each outcome — collect more, a
winner, a guardrail stop, no difference — comes with its reason in figures."""

import math

import numpy as np
import pytest

from app.experiments.decision import (
    ArmOutcomes,
    DecisionRules,
    Outcome,
    decide,
    msprt,
)


def mixture_ratio(difference: float, variance: float, scale: float, *, one_sided=False) -> float:
    """∫ N(θ̂; θ, s²) π(θ) dθ / N(θ̂; 0, s²) with π normal (or half-normal), integrated on a
    grid: what the closed form in the decision must equal."""
    theta = np.linspace(0 if one_sided else -10 * scale, 10 * scale, 200_001)
    prior = np.exp(-(theta**2) / (2 * scale**2)) / math.sqrt(2 * math.pi * scale**2)
    if one_sided:
        prior *= 2
    likelihood = np.exp(-((difference - theta) ** 2) / (2 * variance))
    return float(
        np.trapezoid(prior * likelihood, theta) / math.exp(-(difference**2) / (2 * variance))
    )


@pytest.mark.parametrize("difference", [-0.4, 0.0, 0.15, 0.5])
@pytest.mark.parametrize("one_sided", [False, True])
def test_the_statistic_is_the_mixture_likelihood_ratio(difference, one_sided):
    ratio, low, high = msprt(difference, variance=0.02, scale=0.3, alpha=0.05, one_sided=one_sided)

    assert ratio == pytest.approx(mixture_ratio(difference, 0.02, 0.3, one_sided=one_sided),
                                  rel=1e-4)  # fmt: skip
    assert low < difference < high


def test_the_interval_excludes_zero_exactly_when_the_two_sided_test_is_decisive():
    for difference in np.linspace(0.0, 0.6, 61):
        ratio, low, high = msprt(float(difference), variance=0.02, scale=0.3, alpha=0.05)
        assert (ratio >= 20) == (low > 0 or high < 0), difference


def arm(name, ratings, *, control=False):
    return ArmOutcomes(name, tuple(ratings), tuple(float(r <= 2) for r in ratings), control)


RULES = DecisionRules(min_clients_per_arm=30, guardrail_min_clients=20)


def test_too_few_clients_is_no_decision_whatever_the_means():
    decision = decide([arm("контроль", [3] * 10, control=True), arm("новая", [5] * 10)], RULES)

    assert decision.outcome == Outcome.CONTINUE and decision.arm is None
    assert "не меньше 30 клиентов" in decision.reason and "«контроль» 10" in decision.reason


def test_a_clearly_better_arm_wins_and_the_reason_gives_the_figures():
    control = arm("контроль", [3, 4] * 40, control=True)  # mean 3.5
    better = arm("новая", [4, 5] * 40)  # mean 4.5

    decision = decide([control, better], RULES)

    assert decision.outcome == Outcome.WINNER and decision.arm == "новая"
    summary = next(s for s in decision.arms if s.arm == "новая")
    assert summary.mean_rating == 4.5 and summary.clients == 80
    test = summary.rating_vs_control
    assert test.difference == 1.0 and test.low > 0 and test.p_value < 0.05
    assert "4.50 против 3.50" in decision.reason and "+1.00★" in decision.reason


def test_a_clearly_worse_challenger_leaves_the_control_as_winner():
    decision = decide([arm("контроль", [4, 5] * 40, control=True), arm("новая", [3, 4] * 40)],
                      RULES)  # fmt: skip

    assert decision.outcome == Outcome.WINNER and decision.arm == "контроль"
    assert "«новая» хуже контроля" in decision.reason


def test_an_arm_with_more_negative_ratings_is_stopped_by_the_guardrail_first():
    """Same number of 5★ on both sides, so the mean alone is not decisive yet; but one
    resident in three is unhappy with the new arm against one in twenty with the control."""
    control = arm("контроль", [5] * 19 + [1] + [4] * 20, control=True)
    harmful = arm("новая", [5] * 19 + [1] * 13 + [5] * 8)

    decision = decide([control, harmful], RULES)

    assert decision.outcome == Outcome.STOP_ARM and decision.arm == "новая"
    assert "ограничителем" in decision.reason and "32.5%" in decision.reason
    assert next(s for s in decision.arms if s.arm == "новая").negative_vs_control.decisive


def test_equal_arms_at_the_size_limit_end_with_no_difference():
    rules = DecisionRules(min_clients_per_arm=30, max_clients_per_arm=200)
    ratings = [1, 2, 3, 4, 5, 5, 4, 3] * 25

    decision = decide([arm("контроль", ratings, control=True), arm("новая", ratings)], rules)

    assert decision.outcome == Outcome.NO_DIFFERENCE and decision.arm is None
    assert "Разницы не найдено" in decision.reason and "остаётся контроль" in decision.reason


def test_with_three_arms_each_comparison_spends_half_of_alpha():
    """Bonferroni over the two comparisons: Λ ≈ 29 is decisive against 1/α = 20 when the
    arm is the only challenger, not against 2/α = 40 when there are two."""
    control = arm("контроль", [3, 4] * 40, control=True)
    challenger = arm("b", [3, 4] * 28 + [4, 5] * 12)  # mean 3.65

    alone = decide([control, challenger]).arms[1].rating_vs_control
    shared = decide([control, challenger, arm("c", [3, 4] * 40)]).arms[1].rating_vs_control

    assert alone.likelihood_ratio == pytest.approx(shared.likelihood_ratio)
    assert 20 < alone.likelihood_ratio < 40
    assert alone.decisive and not shared.decisive


def test_an_experiment_needs_exactly_one_control():
    with pytest.raises(ValueError):
        decide([arm("a", [5] * 40), arm("b", [5] * 40)])
