"""Retraining runs (follow, request) and the training exports they learn from."""

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from app.access.deps import LoggedInOperatorDep, OperatorDep
from app.api.csv_export import csv_response
from app.api.deps import DatabaseDep, RowId, SessionDep, SettingsDep
from app.api.schemas import OPERATOR_ERRORS, error_responses
from app.core.errors import ConflictError
from app.db.models import VerifierVersion
from app.retraining import service
from app.retraining.queue import enqueue_verifier_training
from app.retraining.schemas import (
    RetrainingRequest,
    RetrainingRunEntry,
    TrainingDatasetEntry,
    VerifierStatus,
    VerifierTrainingQueued,
    VerifierVersionEntry,
)
from app.verified_answers.verifier_store import roll_back, versions

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


@router.get("/verifier", response_model=VerifierStatus, summary="Верификатор кэша: версии и пороги")
def verifier_status(session: SessionDep, settings: SettingsDep) -> VerifierStatus:
    """The version deciding now, the recent ones (rejected with their reason), and δ."""
    listed = [_version_entry(v) for v in versions(session)]
    return VerifierStatus(
        active=next((v for v in listed if v.status == "active"), None),
        versions=listed,
        judge_configured=settings.cache_judge_enabled and settings.paid_llm_configured,
        max_error_rate=settings.cache_max_error_rate,
    )


@router.post(
    "/verifier/train",
    response_model=VerifierTrainingQueued,
    status_code=202,
    summary="Обучить новую версию верификатора сейчас (её обучит воркер)",
)
def train_verifier(database: DatabaseDep) -> VerifierTrainingQueued:
    job_id = enqueue_verifier_training(database.url)
    return VerifierTrainingQueued(queued=job_id is not None, job_id=job_id)


@router.post(
    "/verifier/rollback",
    response_model=VerifierVersionEntry,
    summary="Вернуть предыдущую версию верификатора",
    responses=error_responses(409),
)
def roll_back_verifier(session: SessionDep, logged_in: LoggedInOperatorDep) -> VerifierVersionEntry:
    restored = roll_back(session, logged_in or "admin key")
    if restored is None:
        raise ConflictError("Нет предыдущей версии верификатора, к которой можно вернуться")
    return _version_entry(restored)


def _version_entry(version: VerifierVersion) -> VerifierVersionEntry:
    params = version.params or {}
    return VerifierVersionEntry(
        id=version.id,
        created_at=version.created_at,
        status=version.status,
        reason=version.reason,
        training_pairs=version.training_pairs,
        max_error_rate=version.max_error_rate,
        held_out=version.held_out,
        serve_at=float(params.get("serve_at", 1.0)),
        ask_from=float(params.get("ask_from", 1.0)),
        answer_thresholds=dict(params.get("per_answer", {})),
    )
