"""The local model's registry: list versions, switch one on without a restart, roll back."""

from typing import Literal

from fastapi import APIRouter, Query

from app.alerts.service import Alerts
from app.api.csv_export import csv_response
from app.api.deps import OperatorDep, RowId, ServicesDep, SessionDep
from app.api.schemas import OPERATOR_ERRORS
from app.model_versions.schemas import ModelVersionEntry
from app.model_versions.service import list_versions

router = APIRouter(
    prefix="/api/voice", tags=["operator"], dependencies=[OperatorDep], responses=OPERATOR_ERRORS
)


@router.get("/models", response_model=list[ModelVersionEntry], summary="Версии локальной модели")
def list_model_versions(
    session: SessionDep,
    format: Literal["json", "csv"] = Query("json", description="csv — скачать таблицей"),
) -> list[ModelVersionEntry]:
    entries = [ModelVersionEntry.model_validate(row) for row in list_versions(session)]
    if format == "csv":
        flat = [e.model_dump(mode="json", exclude={"metrics"}) | e.metrics for e in entries]
        return csv_response(flat, "models.csv")
    return entries


@router.post(
    "/models/{version_id}/activate",
    response_model=ModelVersionEntry,
    summary="Включить версию локальной модели (без перезапуска)",
)
def activate_model_version(version_id: RowId, services: ServicesDep) -> ModelVersionEntry:
    """Switched on for everyone at once; an open canary experiment ends (by hand, no
    winner)."""
    activated = services.local_models.activate(version_id)
    stop_canaries(services, f"Оператор включил модель {activated.name} вручную")
    return ModelVersionEntry.model_validate(activated)


def stop_canaries(services, reason: str) -> None:
    with services.database.transaction() as session:
        stopped = services.experiments.end_canaries(session, reason)
    if stopped:
        Alerts(services.database, services.settings).raise_alert(
            "experiment_decided", f"Канарейка остановлена: {reason}", {"experiment_ids": stopped}
        )


@router.post(
    "/models/rollback",
    response_model=ModelVersionEntry,
    summary="Вернуть предыдущую версию локальной модели",
)
def rollback_model_version(services: ServicesDep) -> ModelVersionEntry:
    restored = services.local_models.rollback()
    stop_canaries(services, f"Оператор вернул модель {restored.name}")
    Alerts(services.database, services.settings).raise_alert(
        "model_rolled_back", f"Откат на модель {restored.name}", {"version_id": restored.id}
    )
    return ModelVersionEntry.model_validate(restored)
