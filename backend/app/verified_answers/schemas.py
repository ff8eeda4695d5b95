"""Bodies of the verified-answer listing and withdrawal."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.api.schemas import NOT_BLANK, IdText, Schema


class VerifiedAnswerEntry(Schema):
    id: IdText
    answer_text: str
    kind: str = Field(description="rated (оценка 5) | corrected (исправление оператора)")
    source_log_id: int | None
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
    operator: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)


class WithdrawResponse(BaseModel):
    success: bool
    message: str
