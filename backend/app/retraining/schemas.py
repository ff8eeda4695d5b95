"""Bodies of retraining runs and requests."""

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, model_validator

from app.api.schemas import NOT_BLANK, EmptyWhenNull, Schema


class RetrainingRunEntry(Schema):
    id: int
    status: str = Field(description="queued | running | promoted | rejected | failed")
    step: str | None = Field(description="export | fine_tune | evaluate | gate | done | error")
    reasons: Annotated[list[str], BeforeValidator(lambda value: value or [])]
    attempts: int
    candidate_version_id: int | None
    result: dict | None = Field(description="The gate's figures for candidate and active model")
    log: Annotated[list[dict], BeforeValidator(lambda value: value or [])] = Field(
        description="Progress lines: at, step, message"
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RetrainingRequest(BaseModel):
    reason: str = Field(
        default="запрошено оператором",
        min_length=1,
        max_length=500,
        pattern=NOT_BLANK,
        examples=["новый тариф"],
    )


class TrainingDatasetEntry(Schema):
    id: int
    dataset_name: str
    total_samples: int
    status: str
    created_at: datetime
    file_available: bool
    removed: dict
    by_rating: dict
    filters: EmptyWhenNull

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, row: Any) -> Any:
        if isinstance(row, dict):
            return row
        stats = row.stats or {}
        return {
            "id": row.id,
            "dataset_name": row.dataset_name,
            "total_samples": row.total_samples,
            "status": row.status,
            "created_at": row.created_at,
            "file_available": Path(row.path).is_file(),
            "removed": stats.get("removed", {}),
            "by_rating": stats.get("by_rating", {}),
            "filters": row.filters,
        }


class VerifierVersionEntry(Schema):
    id: int
    created_at: datetime
    status: str = Field(description="active (решает сейчас) | retired | rejected")
    reason: str | None
    training_pairs: int
    max_error_rate: float = Field(description="δ, с которым откалиброваны пороги")
    held_out: dict = Field(
        description="На отложенных парах: recall (доля верных пар, что выдаются), precision, "
        "wrong_share с 95 % интервалом, judge_share (доля решений, отданных судье)"
    )
    serve_at: float = Field(description="Общий порог выдачи без судьи")
    ask_from: float = Field(description="Нижняя граница полосы, где спрашивают судью")
    answer_thresholds: dict[str, float] = Field(
        description="Собственные пороги ответов, где их свидетельства сдвинули общий"
    )


class VerifierStatus(Schema):
    active: VerifierVersionEntry | None
    versions: list[VerifierVersionEntry]
    judge_configured: bool
    max_error_rate: float


class VerifierTrainingQueued(Schema):
    queued: bool
    job_id: int | None = Field(description="Задача воркера; null — обучение уже в очереди")
