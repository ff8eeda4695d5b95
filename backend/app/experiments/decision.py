"""Whether an experiment has an answer yet: a winner, an arm to stop, or keep collecting.

**Method: a mixture sequential probability ratio test** (mSPRT; Johari, Pekelis & Walsh,
*Always Valid Inference*, 2017) of each arm against the control, on the difference of mean
ratings, with a guardrail on the difference of negative shares (ratings of 2★ or less).

**Why this one.** The decision is looked at on every tick of the schedule for as long as the
experiment runs. A fixed-horizon test, or a Bayesian probability-to-be-best compared with a
threshold at each look, declares far more false winners than its nominal level when looked
at repeatedly. The mSPRT statistic Λ is a non-negative martingale when the arms do not
differ, so by Ville's inequality the chance that it *ever* reaches 1/α is at most α, however
often it is looked at: the A/A false-winner rate is bounded by construction (the benchmark
measures it), and the interval that goes with it is valid at every look. The mixing scale τ
is the size of difference worth finding (0.3★, 0.1 of negative share): it tunes how fast such
a difference is found, not whether the test is valid.

**Whose evidence.** One observation per distinct client (``voice_logs.client_key``), not per
rating: a client counts with the mean of its ratings in the arm and its share of negative
ones. A script that opens a hundred sessions and rates each of them is one client — it moves
its arm by one observation, like any resident.
"""

import math
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

#: Ratings are 1–5; a sample's variance is never taken below this (a handful of identical
#: ratings would otherwise claim certainty).
MIN_RATING_VARIANCE = 0.25
MIN_SHARE_VARIANCE = 0.01


class Outcome(StrEnum):
    CONTINUE = "continue"
    WINNER = "winner"
    STOP_ARM = "stop_arm"
    NO_DIFFERENCE = "no_difference"


@dataclass(frozen=True)
class DecisionRules:
    alpha: float = 0.05
    #: Stopping an arm that is no worse costs a little traffic; serving one that is worse
    #: costs residents: the guardrail may err a little more often (measured in A/A runs).
    guardrail_alpha: float = 0.1
    rating_scale: float = 0.3
    negative_scale: float = 0.1
    #: No winner before every arm has this many distinct rating clients.
    min_clients_per_arm: int = 30
    #: The guardrail may stop an arm once both it and the control have this many.
    guardrail_min_clients: int = 20
    #: Every arm this large and still no answer: the difference is too small to matter.
    max_clients_per_arm: int = 3000


@dataclass(frozen=True)
class ArmOutcomes:
    """What one arm's residents said, one value per distinct client."""

    arm: str
    #: Each client's mean rating in this arm.
    ratings: tuple[float, ...]
    #: Each client's share of ratings ≤ 2★ in this arm.
    negatives: tuple[float, ...]
    is_control: bool = False


@dataclass(frozen=True)
class Comparison:
    """An arm against the control on one figure: arm minus control."""

    difference: float
    #: Always-valid (1 − α) interval for the difference.
    low: float
    high: float
    #: The mSPRT statistic; 1/α or more is decisive.
    likelihood_ratio: float
    decisive: bool

    @property
    def p_value(self) -> float:
        """The always-valid p-value at this look (``min(1, 1/Λ)``)."""
        return min(1.0, 1.0 / self.likelihood_ratio) if self.likelihood_ratio > 0 else 1.0


@dataclass(frozen=True)
class ArmSummary:
    arm: str
    clients: int
    mean_rating: float | None
    negative_share: float | None
    is_control: bool
    rating_vs_control: Comparison | None = None
    negative_vs_control: Comparison | None = None


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    #: The winner, or the arm to stop; None while collecting or with no difference.
    arm: str | None
    #: Why, in words and figures (Russian: operators read it in the dashboard and alerts).
    reason: str
    arms: list[ArmSummary] = field(default_factory=list)


def msprt(
    difference: float, variance: float, scale: float, alpha: float, *, one_sided: bool = False
) -> tuple[float, float, float]:
    """Λ for an estimated ``difference`` with ``variance``, a normal mixture of scale
    ``scale`` over the true difference; and the always-valid interval's bounds.

    ``one_sided``: the mixture is a half-normal over positive differences only (is the arm
    *worse*?), which is ``2·Φ(·)`` times the two-sided Λ — about twice as fast to find harm,
    still a martingale when there is none."""
    mixed = variance + scale**2
    log_ratio = 0.5 * math.log(variance / mixed) + difference**2 * scale**2 / (2 * variance * mixed)
    if one_sided:
        z = difference * scale / math.sqrt(variance * mixed)
        log_ratio += math.log(2.0) + _log_normal_cdf(z)
    half_width = math.sqrt(
        2 * variance * mixed / scale**2 * (math.log(1 / alpha) + 0.5 * math.log(mixed / variance))
    )
    ratio = math.exp(min(log_ratio, 700.0))
    return ratio, difference - half_width, difference + half_width


def _log_normal_cdf(z: float) -> float:
    return math.log(max(0.5 * math.erfc(-z / math.sqrt(2)), 1e-300))


def compare(
    arm: tuple[float, ...],
    control: tuple[float, ...],
    *,
    scale: float,
    alpha: float,
    min_variance: float,
    one_sided: bool = False,
) -> Comparison:
    ours, theirs = np.asarray(arm, dtype=float), np.asarray(control, dtype=float)
    difference = float(ours.mean() - theirs.mean())
    variance = max(float(ours.var(ddof=1)), min_variance) / len(ours) + max(
        float(theirs.var(ddof=1)), min_variance
    ) / len(theirs)
    ratio, low, high = msprt(difference, variance, scale, alpha, one_sided=one_sided)
    return Comparison(
        round(difference, 4), round(low, 4), round(high, 4), ratio, ratio >= 1 / alpha
    )


def summarise(arms: list[ArmOutcomes], rules: DecisionRules) -> list[ArmSummary]:
    control = next(a for a in arms if a.is_control)
    tests = max(len(arms) - 1, 1)  # every arm is compared with the control: Bonferroni
    summaries = []
    for arm in arms:
        rating_test = negative_test = None
        if not arm.is_control and min(len(arm.ratings), len(control.ratings)) >= 2:
            rating_test = compare(
                arm.ratings,
                control.ratings,
                scale=rules.rating_scale,
                alpha=rules.alpha / tests,
                min_variance=MIN_RATING_VARIANCE,
            )
            negative_test = compare(
                arm.negatives,
                control.negatives,
                scale=rules.negative_scale,
                alpha=rules.guardrail_alpha / tests,
                min_variance=MIN_SHARE_VARIANCE,
                one_sided=True,
            )
        summaries.append(
            ArmSummary(
                arm=arm.arm,
                clients=len(arm.ratings),
                mean_rating=round(float(np.mean(arm.ratings)), 4) if arm.ratings else None,
                negative_share=round(float(np.mean(arm.negatives)), 4) if arm.negatives else None,
                is_control=arm.is_control,
                rating_vs_control=rating_test,
                negative_vs_control=negative_test,
            )
        )
    return summaries


def decide(arms: list[ArmOutcomes], rules: DecisionRules | None = None) -> Decision:
    """The decision at this look. Guardrail first (an arm that harms residents stops
    whatever else is true), then a winner, then "no difference" at the size limit."""
    rules = rules or DecisionRules()
    if sum(a.is_control for a in arms) != 1 or len(arms) < 2:
        raise ValueError("an experiment has one control arm and at least one other")
    summaries = summarise(arms, rules)
    control = next(s for s in summaries if s.is_control)
    for decided in (_guardrail, _winner, _no_difference):
        decision = decided(summaries, control, rules)
        if decision is not None:
            return decision
    return Decision(Outcome.CONTINUE, None, _still_collecting(summaries, rules), summaries)


def _guardrail(summaries, control, rules) -> Decision | None:
    harmful = [
        s for s in summaries
        if s.negative_vs_control is not None and s.negative_vs_control.decisive
        and s.negative_vs_control.difference > 0
        and min(s.clients, control.clients) >= rules.guardrail_min_clients
    ]  # fmt: skip
    if not harmful:
        return None
    worst = max(harmful, key=lambda s: s.negative_vs_control.difference)
    test = worst.negative_vs_control
    return Decision(
        Outcome.STOP_ARM,
        worst.arm,
        f"Вариант «{worst.arm}» остановлен ограничителем: доля негативных оценок "
        f"{worst.negative_share:.1%} против {control.negative_share:.1%} у контроля "
        f"(разница +{test.difference:.1%}, интервал {test.low:+.1%}…{test.high:+.1%}, "
        f"p = {test.p_value:.3f}; клиентов {worst.clients} и {control.clients})",
        summaries,
    )


def _winner(summaries, control, rules) -> Decision | None:
    if min(s.clients for s in summaries) < rules.min_clients_per_arm:
        return None
    decisive = [s for s in summaries if s.rating_vs_control and s.rating_vs_control.decisive]
    better = [s for s in decisive if s.rating_vs_control.difference > 0]
    if better:
        best = max(better, key=lambda s: s.mean_rating)
        return Decision(Outcome.WINNER, best.arm, _verdict(best, control, "лучше"), summaries)
    worse = [s for s in decisive if s.rating_vs_control.difference < 0]
    if not worse:
        return None
    loser = min(worse, key=lambda s: s.mean_rating)
    if len(summaries) == 2:
        return Decision(Outcome.WINNER, control.arm, _verdict(loser, control, "хуже"), summaries)
    return Decision(Outcome.STOP_ARM, loser.arm, _verdict(loser, control, "хуже"), summaries)


def _verdict(arm: ArmSummary, control: ArmSummary, word: str) -> str:
    test = arm.rating_vs_control
    return (
        f"«{arm.arm}» {word} контроля «{control.arm}»: средняя оценка {arm.mean_rating:.2f} "
        f"против {control.mean_rating:.2f} (разница {test.difference:+.2f}★, интервал "
        f"{test.low:+.2f}…{test.high:+.2f}, p = {test.p_value:.3f}; клиентов {arm.clients} и "
        f"{control.clients})"
    )


def _no_difference(summaries, control, rules) -> Decision | None:
    if min(s.clients for s in summaries) < rules.max_clients_per_arm:
        return None
    widest = max(
        (s for s in summaries if s.rating_vs_control),
        key=lambda s: s.rating_vs_control.high - s.rating_vs_control.low,
    )
    test = widest.rating_vs_control
    return Decision(
        Outcome.NO_DIFFERENCE,
        None,
        f"Разницы не найдено: у каждого варианта не меньше {rules.max_clients_per_arm} "
        f"клиентов, разница средних оценок в пределах {test.low:+.2f}…{test.high:+.2f}★; "
        f"остаётся контроль «{control.arm}»",
        summaries,
    )


def _still_collecting(summaries: list[ArmSummary], rules: DecisionRules) -> str:
    short = [s for s in summaries if s.clients < rules.min_clients_per_arm]
    if short:
        counts = ", ".join(f"«{s.arm}» {s.clients}" for s in short)
        return f"Мало оценок: нужно не меньше {rules.min_clients_per_arm} клиентов в каждом " \
               f"варианте ({counts})"  # fmt: skip
    tested = [s for s in summaries if s.rating_vs_control]
    closest = min(tested, key=lambda s: s.rating_vs_control.p_value)
    test = closest.rating_vs_control
    return (
        f"Пока без решения: «{closest.arm}» против контроля {test.difference:+.2f}★ "
        f"(интервал {test.low:+.2f}…{test.high:+.2f}, p = {test.p_value:.3f})"
    )
