"""JSON (and CSV) behind the dashboard's charts. Operator key required."""

from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Query

from app.api.csv_export import csv_response
from app.api.deps import OperatorDep, ServicesDep
from app.api.routes.operator import ERRORS
from app.services.quality_metrics import estimated_savings, metrics_over_time, period_metrics

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
