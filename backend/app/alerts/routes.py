"""What operators should know about: the alert log."""

from typing import Literal

from fastapi import APIRouter, Query

from app.access.deps import OperatorDep
from app.alerts.schemas import AlertEntry
from app.alerts.service import recent_alerts
from app.api.csv_export import csv_response
from app.api.deps import SessionDep
from app.api.schemas import OPERATOR_ERRORS

router = APIRouter(
    prefix="/api/voice", tags=["automation"], dependencies=[OperatorDep], responses=OPERATOR_ERRORS
)


@router.get("/alerts", response_model=list[AlertEntry], summary="Оповещения, новые первыми")
def list_alerts(
    session: SessionDep,
    limit: int = Query(default=50, ge=1, le=500),
    format: Literal["json", "csv"] = Query("json", description="csv — скачать таблицей"),
) -> list[AlertEntry]:
    entries = [AlertEntry.model_validate(row) for row in recent_alerts(session, limit)]
    if format == "csv":
        return csv_response([e.model_dump(mode="json") for e in entries], "alerts.csv")
    return entries
