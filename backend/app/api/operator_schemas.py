"""Bodies of the operator endpoints: corrections, the review queue, verified answers."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

CORRECTION_MAX_LENGTH = 4000


class CorrectionRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "corrected_response": "Окна в подъездах моем 2 раза в год — в апреле и "
                    "в сентябре. Дату вывешиваем на стенде у входа.",
                    "operator": "Ирина (диспетчер)",
                }
            ]
        }
    )

    corrected_response: str = Field(max_length=CORRECTION_MAX_LENGTH)
    operator: str = Field(max_length=200)

    @field_validator("corrected_response", "operator")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("не может быть пустым")
        return value


class CorrectionResponse(BaseModel):
    success: bool
    message: str = Field(examples=["Исправление сохранено и будет использоваться в ответах"])
    log_id: str
    verified_answer_id: str | None


class LogEntry(BaseModel):
    log_id: str
    session_id: str
    user_message: str
    ai_response: str
    model_used: str
    answer_source: str
    source_log_id: str | None
    rating: int | None
    feedback_text: str | None
    corrected_response: str | None
    corrected_by: str | None
    created_at: datetime


class LogPage(BaseModel):
    total: int = Field(description="Сколько записей подходит под фильтр")
    items: list[LogEntry]


class VerifiedAnswerEntry(BaseModel):
    id: str
    answer_text: str
    kind: str = Field(description="rated (оценка 5) | corrected (исправление оператора)")
    source_log_id: str | None
    created_by: str | None
    created_at: datetime
    confirmed_at: datetime
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    approved_questions: int
    refused_questions: int
    approving_conversations: int = Field(description="Разных разговоров, оценивших ответ на 5")
    verified: bool = Field(
        description="Отдаётся из кэша: ответ оператора или не меньше VERIFY_MIN_SESSIONS "
        "разговоров (см. README)"
    )


class WithdrawRequest(BaseModel):
    operator: str = Field(min_length=1, max_length=200)


class ModelVersionEntry(BaseModel):
    id: int
    name: str
    base_model: str
    dataset_path: str | None
    path: str
    adapter: bool
    metrics: dict
    status: str = Field(description="candidate | active | retired | rejected")
    created_at: datetime
    activated_at: datetime | None


class RetrainingRunEntry(BaseModel):
    id: int
    status: str = Field(description="queued | running | promoted | rejected | failed")
    step: str | None = Field(description="export | fine_tune | evaluate | gate | done | error")
    reasons: list[str]
    attempts: int
    candidate_version_id: int | None
    result: dict | None = Field(description="The gate's figures for candidate and active model")
    log: list[dict] = Field(description="Progress lines: at, step, message")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RetrainingRequest(BaseModel):
    reason: str = Field(
        default="запрошено оператором", min_length=1, max_length=500, examples=["новый тариф"]
    )


class AlertEntry(BaseModel):
    id: int
    kind: str
    severity: str
    title: str
    details: dict
    deliveries: dict
    repeats: int
    created_at: datetime
    last_seen_at: datetime


class KnowledgeEntryIn(BaseModel):
    title: str = Field(default="", max_length=300, examples=["Цены"])
    content: str = Field(min_length=1, max_length=4000, examples=["Стандартный тариф: 4800 рублей"])


class KnowledgeEntryOut(BaseModel):
    id: int
    title: str
    content: str
    source: str = Field(description="operator, или имя импортированного файла")
    updated_at: datetime
