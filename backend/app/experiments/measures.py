"""What each arm's answers got, read from the logs: the per-client outcomes the decision
counts, and the figures operators compare (satisfaction with the dialog's own signals,
paid cost per answer, p95 latency)."""

from collections import defaultdict

from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.orm import Session

from app.db.models import AnswerSignal, Experiment, ExperimentAnswer, SignalKind, VoiceLog
from app.experiments.decision import ArmOutcomes

NEGATIVE_RATING = 2
SATISFIED_RATING = 4
UNHAPPY_SIGNALS = (SignalKind.RE_ASK, SignalKind.ESCALATION, SignalKind.ABANDONED)


def client_of():
    """A rating's client: its network's key; a log without one counts alone."""
    return func.coalesce(VoiceLog.client_key, func.concat("log:", VoiceLog.id))


def arm_outcomes(session: Session, experiment: Experiment) -> list[ArmOutcomes]:
    """Per arm, one mean rating and one negative share per distinct client."""
    client = client_of().label("client")
    rows = session.execute(
        select(
            ExperimentAnswer.arm_id,
            client,
            func.avg(VoiceLog.rating),
            func.avg(cast(VoiceLog.rating <= NEGATIVE_RATING, Integer)),
        )
        .join(VoiceLog, VoiceLog.id == ExperimentAnswer.log_id)
        .where(
            ExperimentAnswer.arm_id.in_([arm.id for arm in experiment.arms]),
            VoiceLog.rating.is_not(None),
        )
        .group_by(ExperimentAnswer.arm_id, client)
        .order_by(ExperimentAnswer.arm_id, client)
    ).all()
    ratings: dict[int, list[float]] = defaultdict(list)
    negatives: dict[int, list[float]] = defaultdict(list)
    for arm_id, _, mean_rating, negative_share in rows:
        ratings[arm_id].append(float(mean_rating))
        negatives[arm_id].append(float(negative_share))
    return [
        ArmOutcomes(arm.name, tuple(ratings[arm.id]), tuple(negatives[arm.id]), arm.is_control)
        for arm in experiment.arms
    ]


def arm_figures(session: Session, experiment: Experiment) -> dict[str, dict]:
    """Per arm name: answers, rated answers, raw mean rating, satisfaction (rated 4★+ among
    rated; and answers without an unhappy signal among all, the implicit measure), paid
    cost per answer, p95 response time."""
    unhappy = (
        select(AnswerSignal.log_id)
        .where(AnswerSignal.kind.in_(UNHAPPY_SIGNALS))
        .distinct()
        .subquery()
    )
    satisfied = case(
        (VoiceLog.rating.is_(None), None),
        else_=cast(VoiceLog.rating >= SATISFIED_RATING, Integer),
    )
    rows = session.execute(
        select(
            ExperimentAnswer.arm_id,
            func.count(),
            func.count(VoiceLog.rating),
            func.avg(VoiceLog.rating),
            func.avg(satisfied),
            func.avg(cast(unhappy.c.log_id.is_(None), Integer)),
            func.avg(VoiceLog.cost_usd),
            func.percentile_cont(0.95).within_group(VoiceLog.response_time),
        )
        .join(VoiceLog, VoiceLog.id == ExperimentAnswer.log_id)
        .outerjoin(unhappy, unhappy.c.log_id == VoiceLog.id)
        .where(ExperimentAnswer.arm_id.in_([arm.id for arm in experiment.arms]))
        .group_by(ExperimentAnswer.arm_id)
    ).all()
    names = {arm.id: arm.name for arm in experiment.arms}
    figures = {arm.name: _empty() for arm in experiment.arms}
    for arm_id, answers, rated, mean, satisfied, calm, cost, p95 in rows:
        figures[names[arm_id]] = {
            "answers": answers,
            "rated": rated,
            "mean_rating_raw": _round(mean),
            "satisfaction": _round(satisfied),
            "implicit_satisfaction": _round(calm),
            "paid_cost_per_answer_usd": _round(cost, 6),
            "p95_latency_s": _round(p95),
        }
    return figures


def _empty() -> dict:
    return {
        "answers": 0, "rated": 0, "mean_rating_raw": None, "satisfaction": None,
        "implicit_satisfaction": None, "paid_cost_per_answer_usd": None, "p95_latency_s": None,
    }  # fmt: skip


def _round(value, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)
