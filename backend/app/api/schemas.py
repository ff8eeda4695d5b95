"""Request and response bodies of the seed's API. Field names are a public contract."""

from pydantic import BaseModel, ConfigDict, Field

# Hard cap on what the parser accepts at all; the configurable MAX_MESSAGE_LENGTH is
# checked by the pipeline so that its message can name the limit in force.
MESSAGE_HARD_LIMIT = 20_000


class ProcessRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"message": "Как часто моют подъезд?", "session_id": "kv-12-podezd-3"}]
        }
    )

    message: str = Field(max_length=MESSAGE_HARD_LIMIT, description="Вопрос жильца")
    session_id: str | None = Field(
        default=None, max_length=128, description="Идентификатор разговора; новый, если не задан"
    )


class ProcessResponse(BaseModel):
    response: str = Field(examples=["Влажная уборка — 2 раза в неделю, по вторникам и пятницам."])
    log_id: str
    session_id: str
    model_used: str = Field(examples=["gpt-4o-mini"])
    response_time: float = Field(description="Секунды от запроса до ответа")
    answer_source: str = Field(
        description="cache | local | llm | knowledge_base | fallback", examples=["llm"]
    )
    source_log_id: str | None = Field(
        default=None, description="Диалог, из которого взят готовый ответ, если он взят"
    )
    feedback_token: str = Field(
        description="Передайте в /feedback (поле или заголовок X-Feedback-Token): "
        "оценить ответ может только разговор, который его получил"
    )


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "log_id": "0b8f7c1e-5d1a-4c0e-9a57-2f1d3c4b5a69",
                    "rating": 5,
                    "feedback_text": "Спасибо, всё понятно!",
                }
            ]
        }
    )

    log_id: str = Field(max_length=64)
    rating: int = Field(ge=1, le=5, strict=True, description="Оценка от 1 до 5")
    feedback_text: str | None = Field(default=None, max_length=4000)
    feedback_token: str | None = Field(
        default=None,
        max_length=64,
        description="Токен из ответа /process; можно передать заголовком X-Feedback-Token",
    )


class FeedbackResponse(BaseModel):
    success: bool
    message: str = Field(examples=["Спасибо за оценку!"])
    log_id: str
    rating: int


class LearningStatus(BaseModel):
    total_interactions: int
    avg_rating: float | None
    positive_ratings_count: int
    negative_ratings_count: int
    current_model: str
    requires_retraining: bool
    rated_interactions: int
    retraining_reasons: list[str]
    #: The decision looks at the last RETRAINING_WINDOW_DAYS, like check_retraining.
    decision_window_days: int
    window_metrics: dict
    #: The most recent evaluate_model run (a model_metrics row), if any.
    latest_metrics: dict | None


class SimilarDialog(BaseModel):
    log_id: str
    user_message: str = Field(examples=["Когда моют полы в подъезде?"])
    ai_response: str
    similarity_score: float
    rating: int | None


class HealthResponse(BaseModel):
    status: str = Field(examples=["healthy"])
    components: dict[str, str] = Field(
        examples=[
            {
                "ai_service": "offline",
                "embedding_service": "healthy",
                "local_model": "disabled",
                "database": "healthy",
            }
        ]
    )


class EmbeddingsUpdateResponse(BaseModel):
    success: bool
    processed: int
    errors: int
    total_found: int


class ErrorResponse(BaseModel):
    detail: str = Field(examples=["Сообщение не может быть пустым"])
