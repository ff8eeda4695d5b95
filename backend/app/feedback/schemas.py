"""Bodies of ratings, operator corrections and the review queue."""

from datetime import datetime
from typing import Annotated

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from app.api.schemas import NOT_BLANK, PLAIN_TEXT, Schema
from app.db.models import AnswerSource, SignalKind


def _whole_number(value: object) -> object:
    """A rating is a JSON number with no fraction (``5`` or ``5.0``, as JSON has it); text
    and booleans are not ratings, though pydantic's lax mode would read them as numbers."""
    if isinstance(value, str | bool):
        raise ValueError("ожидается целое число от 1 до 5")
    return value


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "log_id": 42,
                    "rating": 5,
                    "feedback_text": "Спасибо, всё понятно!",
                }
            ]
        }
    )

    log_id: int | Annotated[str, Field(max_length=64)] = Field(
        description="log_id из ответа /process; несуществующая запись — 404"
    )
    rating: Annotated[int, BeforeValidator(_whole_number)] = Field(
        ge=1, le=5, description="Оценка от 1 до 5"
    )
    feedback_text: str | None = Field(default=None, max_length=4000, pattern=PLAIN_TEXT)
    feedback_token: str | None = Field(
        default=None,
        max_length=64,
        description="Токен из ответа /process; можно передать заголовком X-Feedback-Token",
    )


class FeedbackResponse(BaseModel):
    success: bool
    message: str = Field(examples=["Спасибо за оценку!"])
    log_id: int
    rating: int


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

    corrected_response: str = Field(
        min_length=1, max_length=CORRECTION_MAX_LENGTH, pattern=NOT_BLANK
    )
    operator: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)

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
    log_id: int
    verified_answer_id: str | None


class LogEntry(Schema):
    log_id: int = Field(validation_alias=AliasChoices("log_id", "id"))
    session_id: str
    user_message: str
    ai_response: str
    model_used: str
    answer_source: AnswerSource
    source_log_id: int | None
    rating: int | None
    feedback_text: str | None
    corrected_response: str | None
    corrected_by: str | None
    created_at: datetime
    asr_confidence: float | None = Field(
        default=None, description="Вопрос задан голосом: уверенность распознавания (0–1)"
    )
    has_recording: bool = Field(
        default=False,
        description="Запись вопроса сохранена (STORE_AUDIO) и ещё не удалена: "
        "GET /api/voice/logs/{log_id}/recording",
    )
    signals: list[SignalKind] = Field(
        default_factory=list,
        description="Что сказало следующее сообщение жильца об этом ответе: re_ask (переспросил), "
        "escalation (попросил человека), thanks (поблагодарил)",
    )


class SignalEntry(Schema):
    id: int
    log_id: int = Field(description="Ответ, о котором сигнал")
    next_log_id: int | None = Field(
        description="Сообщение жильца, которое его дало (нет у брошенного диалога)"
    )
    kind: SignalKind
    evidence: dict | None = Field(description="Почему оно прочитано так: фраза, близость")
    created_at: datetime


class LogPage(BaseModel):
    total: int = Field(description="Сколько записей подходит под фильтр")
    items: list[LogEntry]
