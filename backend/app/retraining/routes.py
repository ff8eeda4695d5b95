"""Retraining runs (follow, request) and the training exports they learn from."""

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from app.access.deps import OperatorDep
from app.api.csv_export import csv_response
from app.api.deps import DatabaseDep, RowId, SessionDep
from app.api.schemas import OPERATOR_ERRORS
from app.retraining import service
from app.retraining.schemas import RetrainingRequest, RetrainingRunEntry, TrainingDatasetEntry

router = APIRouter(
    prefix="/api/voice", tags=["automation"], dependencies=[OperatorDep], responses=OPERATOR_ERRORS
)


@router.get(
    "/retraining/runs",
    response_model=list[RetrainingRunEntry],
    summary="Запуски переобучения, новые первыми",
)
def list_runs(
    session: SessionDep, limit: int = Query(default=20, ge=1, le=200)
) -> list[RetrainingRunEntry]:
    return [RetrainingRunEntry.model_validate(run) for run in service.recent_runs(session, limit)]


@router.get(
    "/retraining/runs/{run_id}",
    response_model=RetrainingRunEntry,
    summary="Ход и журнал одного переобучения",
)
def get_run(run_id: RowId, session: SessionDep) -> RetrainingRunEntry:
    return RetrainingRunEntry.model_validate(service.get_run(session, run_id))


@router.post(
    "/retraining",
    response_model=RetrainingRunEntry,
    status_code=202,
    summary="Запустить переобучение сейчас (его выполнит воркер)",
)
def request_run(body: RetrainingRequest, database: DatabaseDep) -> RetrainingRunEntry:
    """Queues a run whatever the thresholds say; while one is queued or running, that one
    is returned instead of a second."""
    return RetrainingRunEntry.model_validate(service.request_run(database, [body.reason]))


@router.get(
    "/training-datasets",
    response_model=list[TrainingDatasetEntry],
    summary="Выгрузки для обучения: файл, число примеров, статистика (format=csv — таблицей)",
)
def training_datasets(
    session: SessionDep, format: Literal["json", "csv"] = Query(default="json")
) -> list[TrainingDatasetEntry]:
    items = [TrainingDatasetEntry.model_validate(row) for row in service.training_datasets(session)]
    if format == "csv":
        flat = [
            {k: v for k, v in item.model_dump(mode="json").items() if not isinstance(v, dict)}
            for item in items
        ]
        return csv_response(flat, "training_datasets.csv")
    return items


@router.get(
    "/training-datasets/{dataset_id}/download",
    summary="Скачать файл выгрузки (JSONL)",
    response_class=FileResponse,
)
def download_dataset(dataset_id: RowId, session: SessionDep) -> FileResponse:
    path = service.dataset_file(session, dataset_id)
    return FileResponse(path, media_type="application/jsonl", filename=path.name)
