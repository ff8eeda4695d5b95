"""Operator endpoints of the automation: retraining runs (follow, request) and alerts.
All need ``Authorization: Bearer <ADMIN_API_KEY>``."""

from typing import Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from app.api.csv_export import csv_response
from app.api.deps import OperatorDep, ServicesDep
from app.api.operator_schemas import AlertEntry, RetrainingRequest, RetrainingRunEntry
from app.api.routes.operator import ERRORS
from app.core.errors import NotFoundError
from app.db.models import Alert, RetrainingRun
from app.retraining.decision import open_run
from app.retraining.queue import enqueue_retraining

router = APIRouter(prefix="/api/voice", tags=["automation"], dependencies=[OperatorDep])


class RetrainingRunNotFoundError(NotFoundError):
    def __init__(self, run_id: int) -> None:
        super().__init__(f"Переобучение {run_id} не найдено")


@router.get(
    "/retraining/runs",
    response_model=list[RetrainingRunEntry],
    responses=ERRORS,
    summary="Запуски переобучения, новые первыми",
)
def list_runs(
    services: ServicesDep, limit: int = Query(default=20, ge=1, le=200)
) -> list[RetrainingRunEntry]:
    with services.database.session() as session:
        rows = session.scalars(select(RetrainingRun).order_by(RetrainingRun.id.desc()).limit(limit))
        return [_run_entry(row) for row in rows]


@router.get(
    "/retraining/runs/{run_id}",
    response_model=RetrainingRunEntry,
    responses=ERRORS,
    summary="Ход и журнал одного переобучения",
)
def get_run(run_id: int, services: ServicesDep) -> RetrainingRunEntry:
    with services.database.session() as session:
        row = session.get(RetrainingRun, run_id)
        if row is None:
            raise RetrainingRunNotFoundError(run_id)
        return _run_entry(row)


@router.post(
    "/retraining",
    response_model=RetrainingRunEntry,
    status_code=202,
    responses=ERRORS,
    summary="Запустить переобучение сейчас (его выполнит воркер)",
)
def request_run(body: RetrainingRequest, services: ServicesDep) -> RetrainingRunEntry:
    """Queues a run whatever the thresholds say; while one is queued or running, that one
    is returned instead of a second."""
    with services.database.session() as session:
        run = open_run(session)
        if run is None:
            run = RetrainingRun(status="queued", step="queued", reasons=[body.reason], log=[])
            session.add(run)
            session.commit()
        entry = _run_entry(run)
    enqueue_retraining(services.database.url, entry.id)
    return entry


@router.get(
    "/alerts",
    response_model=list[AlertEntry],
    responses=ERRORS,
    summary="Оповещения, новые первыми",
)
def list_alerts(
    services: ServicesDep,
    limit: int = Query(default=50, ge=1, le=500),
    format: Literal["json", "csv"] = Query("json", description="csv — скачать таблицей"),
) -> list[AlertEntry]:
    with services.database.session() as session:
        rows = session.scalars(select(Alert).order_by(Alert.id.desc()).limit(limit))
        entries = [
            AlertEntry(
                id=row.id, kind=row.kind, severity=row.severity, title=row.title,
                details=row.details or {}, deliveries=row.deliveries or {}, repeats=row.repeats,
                created_at=row.created_at, last_seen_at=row.last_seen_at,
            )
            for row in rows
        ]  # fmt: skip
    if format == "csv":
        return csv_response([e.model_dump(mode="json") for e in entries], "alerts.csv")
    return entries


def _run_entry(row: RetrainingRun) -> RetrainingRunEntry:
    return RetrainingRunEntry(
        id=row.id,
        status=row.status,
        step=row.step,
        reasons=row.reasons or [],
        attempts=row.attempts,
        candidate_version_id=row.candidate_version_id,
        result=row.result,
        log=row.log or [],
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )
