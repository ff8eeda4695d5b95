"""Bodies of ``process`` and ``health``. Field names and types are the seed's contract."""

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.api.schemas import NOT_BLANK, PLAIN_TEXT
from app.db.models import AnswerSource

# Hard cap on what the parser accepts at all; the configurable MAX_MESSAGE_LENGTH is
# checked by the pipeline so that its message can name the limit in force.
MESSAGE_HARD_LIMIT = 20_000


class ProcessRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"message": "Как часто моют подъезд?", "session_id": "kv-12-podezd-3"}]
        }
    )

    message: str = Field(
        min_length=1, max_length=MESSAGE_HARD_LIMIT, pattern=NOT_BLANK, description="Вопрос жильца"
    )
    session_id: str | None = Field(
        default=None,
        max_length=128,
        pattern=PLAIN_TEXT,
        description="Идентификатор разговора; новый, если не задан",
    )
    conversation_token: str | None = Field(
        default=None,
        max_length=64,
        pattern=PLAIN_TEXT,
        description="Токен разговора из прошлого ответа (или заголовок X-Conversation-Token): "
        "без него история разговора видна только с того же адреса",
    )
    speak: StrictBool = Field(
        default=False, description="Вернуть и озвученный ответ (поле speech_wav_base64)"
    )


class SpokenQuestionFields(BaseModel):
    """The form fields beside ``audio`` in a multipart ``process``."""

    session_id: str | None = Field(default=None, max_length=128, pattern=PLAIN_TEXT)
    conversation_token: str | None = Field(default=None, max_length=64, pattern=PLAIN_TEXT)
    speak: bool = False


#: What the ``audio`` part may be declared as (checked by ``app.voice.audio``).
SPOKEN_MEDIA_TYPES = (
    "audio/webm", "audio/ogg", "audio/wav", "audio/mpeg", "audio/mp4", "audio/flac",
    "application/octet-stream",
)  # fmt: skip


def process_request_body() -> dict:
    """``process`` takes JSON (the seed's typed question) or multipart with ``audio``."""
    form = {
        "type": "object",
        "required": ["audio"],
        "additionalProperties": False,
        "properties": {
            "audio": {
                "type": "string",
                "format": "binary",
                "minLength": 1,
                "description": "Запись вопроса с речью: webm/opus, ogg, wav, mp3, m4a или flac, "
                "от 8 до 192 кГц, не больше MAX_AUDIO_BYTES байт и MAX_AUDIO_SECONDS секунд. "
                "Формат узнаётся по содержимому файла; другое — 415, тишина — 422",
            },
            "session_id": {"type": "string", "maxLength": 128, "pattern": PLAIN_TEXT},
            "conversation_token": {"type": "string", "maxLength": 64, "pattern": PLAIN_TEXT},
            "speak": {"type": "boolean", "description": "Вернуть и озвученный ответ"},
        },
    }
    return {
        "required": True,
        "content": {
            # Read by hand (the route takes either body), so added to the components by
            # ``app.api.openapi``.
            "application/json": {"schema": {"$ref": "#/components/schemas/ProcessRequest"}},
            "multipart/form-data": {
                "schema": form,
                "encoding": {"audio": {"contentType": ", ".join(SPOKEN_MEDIA_TYPES)}},
            },
        },
    }


class ProcessResponse(BaseModel):
    response: str = Field(examples=["Влажная уборка — 2 раза в неделю, по вторникам и пятницам."])
    log_id: int = Field(examples=[42], description="Номер записи диалога (для /feedback)")
    session_id: str
    model_used: str = Field(examples=["gpt-4o-mini"])
    response_time: float = Field(description="Секунды от запроса до ответа")
    answer_source: AnswerSource = Field(
        description="Откуда ответ: cache | local | llm | knowledge_base | fallback",
        examples=["llm"],
    )
    source_log_id: int | None = Field(
        default=None, description="Диалог, из которого взят готовый ответ, если он взят"
    )
    feedback_token: str = Field(
        description="Передайте в /feedback (поле или заголовок X-Feedback-Token): "
        "оценить ответ может только разговор, который его получил"
    )
    conversation_token: str | None = Field(
        default=None,
        description="Выдаётся тому, кто начал разговор (или предъявил токен): передавайте "
        "его со следующими вопросами, чтобы модель видела историю разговора. Пусто, если "
        "идентификатор разговора уже занят, а токена нет",
    )
    transcript: str | None = Field(
        default=None, description="Распознанный текст вопроса, если вопрос задан голосом"
    )
    asr_confidence: float | None = Field(
        default=None,
        description="Уверенность распознавания (0–1); ниже ASR_MIN_CONFIDENCE диалог не "
        "используется для обучения",
    )
    speech_wav_base64: str | None = Field(
        default=None,
        description="Ответ голосом (WAV в base64), если просили speak и озвучивание работает; "
        "иначе GET /api/voice/logs/{log_id}/speech",
    )
