"""Bodies of ``process`` and ``health``. Field names and types are the seed's contract."""

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
