"""JSON (and CSV) behind the dashboard: charts over time, evaluating now, the training
datasets and their files. Operator key required."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from sqlalchemy import select

from app.api.csv_export import csv_response
from app.api.deps import OperatorDep, ServicesDep
from app.api.routes.operator import ERRORS
from app.core.errors import NotFoundError
from app.db.models import TrainingDataset
from app.quality.metrics import estimated_savings, metrics_over_time, period_metrics

router = APIRouter(prefix="/api/voice", tags=["dashboard"], dependencies=[OperatorDep])


@router.get(
    "/metrics/timeseries",
    responses=ERRORS,
    summary="Качество и расходы по дням или неделям (для графиков; format=csv — таблицей)",
)
def timeseries(
    services: ServicesDep,
    bucket: Literal["day", "week"] = Query(default="day"),
    days: int = Query(default=30, ge=1, le=3660),
    format: Literal["json", "csv"] = Query(default="json"),
):
    end = datetime.now(UTC)
    start = end - timedelta(days=days)
    with services.database.session() as session:
        points = metrics_over_time(session, start, end, bucket)
        totals = period_metrics(session, start, end)
    rows = [p.as_dict() | {"estimated_savings_usd": estimated_savings([p])} for p in points]
    if format == "csv":
        return csv_response(rows, f"metrics_{bucket}_{days}d.csv")
    return {
        "bucket": bucket,
        "days": days,
        "points": rows,
        "totals": totals.as_dict() | {"estimated_savings_usd": estimated_savings(points)},
    }


@router.post(
    "/evaluations",
    responses=ERRORS,
    summary="Оценить модель сейчас (как evaluate_model): метрики периода и золотой набор",
)
def evaluate_now(
    services: ServicesDep,
    days: int | None = Query(default=None, ge=1, le=3660),
    golden: bool = Query(default=True),
) -> dict:
    from app.quality.evaluation import ModelEvaluator

    period = days or services.settings.evaluation_schedule_days
    evaluation = ModelEvaluator(services).evaluate(period, golden=golden)
    return evaluation.as_dict() | {"period_days": period, "empty": evaluation.empty}


@router.get(
    "/training-datasets",
    responses=ERRORS,
    summary="Выгрузки для обучения: файл, число примеров, статистика (format=csv — таблицей)",
)
def training_datasets(
    services: ServicesDep, format: Literal["json", "csv"] = Query(default="json")
):
    with services.database.session() as session:
        rows = session.scalars(select(TrainingDataset).order_by(TrainingDataset.id.desc())).all()
        items = [
            {
                "id": row.id,
                "dataset_name": row.dataset_name,
                "total_samples": row.total_samples,
                "status": row.status,
                "created_at": row.created_at.isoformat(),
                "file_available": Path(row.path).is_file(),
                "removed": (row.stats or {}).get("removed", {}),
                "by_rating": (row.stats or {}).get("by_rating", {}),
                "filters": row.filters or {},
            }
            for row in rows
        ]
    if format == "csv":
        flat = [{k: v for k, v in item.items() if not isinstance(v, dict)} for item in items]
        return csv_response(flat, "training_datasets.csv")
    return items


@router.get(
    "/training-datasets/{dataset_id}/download",
    responses=ERRORS,
    summary="Скачать файл выгрузки (JSONL)",
)
def download_dataset(dataset_id: int, services: ServicesDep) -> FileResponse:
    with services.database.session() as session:
        row = session.get(TrainingDataset, dataset_id)
    if row is None:
        raise NotFoundError(f"Выгрузка {dataset_id} не найдена")
    path = Path(row.path)
    if not path.is_file():
        raise NotFoundError(f"Файл выгрузки {dataset_id} больше не существует: {path.name}")
    return FileResponse(path, media_type="application/jsonl", filename=path.name)
