"""Bodies of the experiments API."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.api.schemas import PLAIN_TEXT, Schema
from app.db.models import MAX_ROW_ID, ExperimentKind


class ArmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=PLAIN_TEXT)
    share: float = Field(gt=0, le=1, description="Доля разговоров, в сумме по вариантам 1")
    control: StrictBool = Field(False, description="Контрольный вариант (ровно один)")
    model_version_id: int | None = Field(
        None,
        ge=1,
        le=MAX_ROW_ID,
        description="Эксперимент с моделями: версия; пусто — без локальной модели",
    )
    settings: dict[str, Any] | None = Field(
        None,
        description='Эксперимент с настройками: {"CACHE_MIN_MARGIN": 0.35, …}',
        examples=[{"CACHE_MIN_MARGIN": 0.35}],
    )


class ExperimentRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Порог кэша 0.35",
                    "kind": "config",
                    "arms": [
                        {"name": "сейчас", "share": 0.5, "control": True},
                        {"name": "0.35", "share": 0.5, "settings": {"CACHE_MIN_MARGIN": 0.35}},
                    ],
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200, pattern=PLAIN_TEXT)
    kind: ExperimentKind
    arms: list[ArmRequest] = Field(min_length=2, max_length=6)


class ArmEntry(Schema):
    id: int
    name: str
    share: float
    is_control: bool
    model_version_id: int | None
    settings: dict[str, Any] | None
    stopped_reason: str | None


class ExperimentEntry(Schema):
    id: int
    name: str
    kind: ExperimentKind
    status: str = Field(description="running | paused | stopped")
    canary_version_id: int | None = Field(description="Кандидат, канарейкой которого он является")
    created_by: str | None
    winner: str | None
    decision: dict[str, Any] | None = Field(
        description="Последнее решение: outcome (continue | winner | stop_arm | no_difference), "
        "arm, reason и показатели вариантов"
    )
    created_at: datetime
    stopped_at: datetime | None
    arms: list[ArmEntry]


class LookEntry(Schema):
    created_at: datetime
    outcome: str
    arms: list[dict[str, Any]]


class SettingEntry(BaseModel):
    name: str = Field(examples=["CACHE_MIN_MARGIN"])
    current: bool | int | float = Field(description="Значение сейчас")
