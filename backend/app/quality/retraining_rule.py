"""Quality figures over all logged interactions and the seed's retraining rule.

Retraining is advised when, with enough rated answers of the last ``RETRAINING_WINDOW_DAYS``
to judge, the average rating is below ``RETRAINING_THRESHOLD``, satisfaction (4–5★) below
``MIN_SATISFACTION_SHARE`` or the negative share (1–2★) above ``MAX_NEGATIVE_SHARE``.

With too few ratings (fewer than ``MIN_RATED_FOR_DECISION`` clients rated), the dialogs
decide instead: retraining is advised when the per-client implicit satisfaction (answers
neither re-asked nor escalated) is below ``MIN_IMPLICIT_SATISFACTION``; the reasons say so.

Every figure of the decision counts distinct clients (``PeriodMetrics.clients``): "enough
rated answers" means ``MIN_RATED_FOR_DECISION`` clients rated, and each client's ratings
weigh as one. One person with a script and many session ids moves none of it.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.db.models import VoiceLog
from app.quality.metrics import ClientFigures, PeriodMetrics, period_metrics, rating_aggregates


@dataclass(frozen=True)
class RatingSummary:
    total_interactions: int
    rated: int
    avg_rating: float | None
    positive: int
    negative: int

    @property
    def satisfaction_share(self) -> float | None:
        return self.positive / self.rated if self.rated else None

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.rated if self.rated else None


@dataclass(frozen=True)
class RetrainingDecision:
    required: bool
    reasons: list[str] = field(default_factory=list)


def summarize_ratings(session: Session) -> RatingSummary:
    row = session.execute(select(*rating_aggregates()).select_from(VoiceLog)).one()
    total, rated, average, positive, negative = row
    return RatingSummary(
        total_interactions=total,
        rated=rated,
        avg_rating=round(float(average), 3) if average is not None else None,
        positive=positive,
        negative=negative,
    )


def retraining_decision(metrics: PeriodMetrics, settings: Settings) -> RetrainingDecision:
    """The seed's rule over a period's metrics, client by client; every threshold crossed
    is a reason."""
    figures = metrics.clients
    if figures is None:  # built by hand, without counting clients
        raise ValueError("the retraining rule needs period_metrics(), which counts clients")
    if figures.rated_clients < settings.min_rated_for_decision:
        return implicit_decision(metrics, figures, settings)
    reasons = []
    average = figures.avg_rating
    if average is not None and average < settings.retraining_threshold:
        reasons.append(f"average rating {average:.2f} < {settings.retraining_threshold}")
    satisfaction = figures.satisfaction or 0.0
    if satisfaction < settings.min_satisfaction_share:
        reasons.append(f"satisfaction {satisfaction:.0%} < {settings.min_satisfaction_share:.0%}")
    negative = figures.negative_share or 0.0
    if negative > settings.max_negative_share:
        reasons.append(f"negative share {negative:.0%} > {settings.max_negative_share:.0%}")
    return RetrainingDecision(bool(reasons), reasons)


def implicit_decision(
    metrics: PeriodMetrics, figures: ClientFigures, settings: Settings
) -> RetrainingDecision:
    """Too few clients rated to judge by stars: judge by what the dialogs said, when
    enough distinct clients were answered (per-client implicit satisfaction, so one
    client re-asking everything weighs as one)."""
    few = (
        f"too few rated answers to judge by ratings: {figures.rated_clients} distinct clients "
        f"rated ({metrics.rated} ratings) < {settings.min_rated_for_decision}"
    )
    implicit = figures.implicit_satisfaction
    if figures.answered_clients < settings.min_rated_for_decision or implicit is None:
        return RetrainingDecision(
            False, [f"{few}; too few clients answered to judge by the dialogs either: "
                    f"{figures.answered_clients}"],
        )  # fmt: skip
    judged = (
        f"{few}; judged by the dialogs of {figures.answered_clients} clients: implicit "
        f"satisfaction {implicit:.0%}"
    )
    if implicit < settings.min_implicit_satisfaction:
        return RetrainingDecision(True, [f"{judged} < {settings.min_implicit_satisfaction:.0%}"])
    return RetrainingDecision(False, [f"{judged} ≥ {settings.min_implicit_satisfaction:.0%}"])


def decide_now(session: Session, settings: Settings) -> tuple[PeriodMetrics, RetrainingDecision]:
    """The decision ``check_retraining`` and the status endpoint both report: over the last
    ``RETRAINING_WINDOW_DAYS``, so an old bad stretch does not demand retraining forever."""
    end = datetime.now(UTC)
    metrics = period_metrics(session, end - timedelta(days=settings.retraining_window_days), end)
    return metrics, retraining_decision(metrics, settings)


def fresh_data_decision(new_samples: int, settings: Settings) -> RetrainingDecision:
    """A local model learns only what it was trained on: with one in use, enough newly
    approved dialogs are a reason to retrain even while quality holds. The gate still
    decides whether the result answers."""
    every = settings.retraining_every_new_samples
    if not (settings.use_local_model and every) or new_samples < every:
        return RetrainingDecision(False)
    return RetrainingDecision(
        True, [f"{new_samples} new approved dialogs since the last run ≥ {every}"]
    )
