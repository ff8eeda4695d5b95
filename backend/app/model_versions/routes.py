"""The local model's registry: list versions, switch one on without a restart, roll back."""

from typing import Literal

from fastapi import APIRouter, Query

from app.access.deps import OperatorDep
from app.api.csv_export import csv_response
from app.api.deps import RowId, SessionDep
from app.api.schemas import OPERATOR_ERRORS
from app.model_versions.deps import ManualSwitchDep
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
def activate_model_version(version_id: RowId, switch: ManualSwitchDep) -> ModelVersionEntry:
    """Switched on for everyone at once; an open canary experiment ends (by hand, no
    winner)."""
    return ModelVersionEntry.model_validate(switch.activate(version_id))


@router.post(
    "/models/rollback",
    response_model=ModelVersionEntry,
    summary="Вернуть предыдущую версию локальной модели",
)
def rollback_model_version(switch: ManualSwitchDep) -> ModelVersionEntry:
    return ModelVersionEntry.model_validate(switch.rollback())
