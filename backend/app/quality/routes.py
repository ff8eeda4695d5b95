"""Quality figures: the seed's self-learning status, charts over time, evaluating now."""

from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Query

from app.access.deps import OperatorDep
from app.answering.deps import PipelineDep
from app.api.csv_export import csv_response
from app.api.deps import SessionDep, SettingsDep
from app.api.schemas import OPERATOR_ERRORS, error_responses
from app.quality.deps import EvaluatorDep
from app.quality.evaluation import latest_evaluation
from app.quality.metrics import estimated_savings, metrics_over_time, period_metrics
from app.quality.retraining_rule import decide_now, summarize_ratings
from app.quality.schemas import LearningStatus

router = APIRouter(
    prefix="/api/voice",
    tags=["dashboard"],
    dependencies=[OperatorDep],
    responses=OPERATOR_ERRORS | error_responses(503),
)


@router.get(
    "/self-learning/status",
    response_model=LearningStatus,
    summary="Состояние самообучения",
    tags=["voice"],
)
def learning_status(
    settings: SettingsDep, pipeline: PipelineDep, session: SessionDep
) -> LearningStatus:
    summary = summarize_ratings(session)
    window, decision = decide_now(session, settings)
    latest = latest_evaluation(session)
    return LearningStatus(
        total_interactions=summary.total_interactions,
        avg_rating=summary.avg_rating,
        positive_ratings_count=summary.positive,
        negative_ratings_count=summary.negative,
        current_model=pipeline.current_model(),
        requires_retraining=decision.required,
        rated_interactions=summary.rated,
        retraining_reasons=decision.reasons,
        decision_window_days=settings.retraining_window_days,
        window_metrics=window.as_dict(),
        latest_metrics=(latest.details | {"id": latest.id}) if latest is not None else None,
    )


@router.get(
    "/metrics/timeseries",
    summary="Качество и расходы по дням или неделям (для графиков; format=csv — таблицей)",
)
def timeseries(
    session: SessionDep,
    bucket: Literal["day", "week"] = Query(default="day"),
    days: int = Query(default=30, ge=1, le=3660),
    format: Literal["json", "csv"] = Query(default="json"),
):
    end = datetime.now(UTC)
    start = end - timedelta(days=days)
    points = metrics_over_time(session, start, end, bucket)
    totals = period_metrics(session, start, end)
    rows = [p.as_dict() | {"estimated_savings_usd": estimated_savings([p])} for p in points]
    if format == "csv":
        return csv_response([_flat(row) for row in rows], f"metrics_{bucket}_{days}d.csv")
    return {
        "bucket": bucket,
        "days": days,
        "points": rows,
        "totals": totals.as_dict() | {"estimated_savings_usd": estimated_savings(points)},
    }


@router.post(
    "/evaluations",
    summary="Оценить модель сейчас (как evaluate_model): метрики периода и золотой набор",
)
def evaluate_now(
    settings: SettingsDep,
    evaluator: EvaluatorDep,
    days: int | None = Query(default=None, ge=1, le=3660),
    golden: bool = Query(default=True),
) -> dict:
    period = days or settings.evaluation_schedule_days
    evaluation = evaluator.evaluate(period, golden=golden)
    return evaluation.as_dict() | {"period_days": period, "empty": evaluation.empty}


def _flat(row: dict) -> dict:
    """A table has no nested cells: the per-client figures become ``clients_*`` columns."""
    clients = row.pop("clients", None) or {}
    return row | {f"clients_{name}": value for name, value in clients.items()}
