"""Bodies of the experiments API."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, TypeAdapter, WithJsonSchema

from app.api.schemas import PLAIN_TEXT, Schema
from app.core.config import Settings
from app.db.models import MAX_ROW_ID, ExperimentKind
from app.experiments.service import EXPERIMENT_SETTINGS


def settings_schema() -> dict[str, Any]:
    """The settings a configuration arm may vary, each with its type and bounds as the
    service checks them (``setting_overrides``): the published schema is the enforced one."""
    properties = {}
    for alias in EXPERIMENT_SETTINGS:
        info = Settings.model_fields[alias.lower()]
        bounded = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        properties[alias] = TypeAdapter(bounded).json_schema()
    return {"type": "object", "properties": properties, "additionalProperties": False}


_MODEL, _CONFIG = ExperimentKind.MODEL.value, ExperimentKind.CONFIG.value


def arms_of_kind() -> list[dict[str, Any]]:
    """An arm of a model experiment varies the model, of a configuration experiment the
    settings: JSON Schema's if/then on the experiment's kind."""
    return [
        {
            "if": {"properties": {"kind": {"const": _MODEL}}, "required": ["kind"]},
            "then": {"properties": {"arms": {"items": {"properties": {
                "settings": {"anyOf": [{"type": "null"}, {"type": "object", "maxProperties": 0}]}
            }}}}},
        },
        {
            "if": {"properties": {"kind": {"const": _CONFIG}}, "required": ["kind"]},
            "then": {"properties": {"arms": {"items": {"properties": {
                "model_version_id": {"type": "null"}
            }}}}},
        },
    ]  # fmt: skip


class ArmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=PLAIN_TEXT)
    share: float = Field(
        gt=0,
        le=1,
        description="Доля разговоров; доли вариантов приводятся к сумме 1 (0.5 и 0.5 — поровну, "
        "как и 0.2 и 0.2)",
    )
    control: StrictBool = Field(False, description="Контрольный вариант (ровно один)")
    model_version_id: int | None = Field(
        None,
        ge=1,
        le=MAX_ROW_ID,
        description="Эксперимент с моделями: версия; пусто — без локальной модели",
    )
    settings: Annotated[
        dict[str, Any] | None,
        WithJsonSchema({"anyOf": [settings_schema(), {"type": "null"}]}),
    ] = Field(
        None,
        description='Эксперимент с настройками: {"CACHE_MIN_MARGIN": 0.35, …}',
        examples=[{"CACHE_MIN_MARGIN": 0.35}],
    )


class ExperimentRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "allOf": arms_of_kind(),
            "examples": [
                {
                    "name": "Порог кэша 0.35",
                    "kind": "config",
                    "arms": [
                        {"name": "сейчас", "share": 0.5, "control": True},
                        {"name": "0.35", "share": 0.5, "settings": {"CACHE_MIN_MARGIN": 0.35}},
                    ],
                }
            ],
        },
    )

    name: str = Field(min_length=1, max_length=200, pattern=PLAIN_TEXT)
    kind: ExperimentKind
    arms: list[ArmRequest] = Field(
        min_length=2,
        max_length=6,
        description="Ровно один вариант контрольный (control: true); названия различаются",
        json_schema_extra={
            "contains": {"properties": {"control": {"const": True}}, "required": ["control"]},
            "minContains": 1,
            "maxContains": 1,
        },
    )


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
