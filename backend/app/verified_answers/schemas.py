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
    approving_clients: int = Field(
        description="Разных клиентов (адресов), одобривших ответ: оценка 5 или благодарность"
    )
    refusing_clients: int = Field(
        description="Разных клиентов, отклонивших его: оценка 1–2, переспрос, просьба позвать "
        "человека"
    )
    verified: bool = Field(
        description="Отдаётся из кэша и служит примером: ответ оператора (или одобренный им), "
        "или одобренный с весом на VERIFY_MIN_SESSIONS больше, чем отклонён (оценка — 1, "
        "сигнал диалога — IMPLICIT_EVIDENCE_WEIGHT; см. README)"
    )
    status: str = Field(description="served | pending (мало клиентов) | held (ждёт оператора: "
                        "контакты, которых нет в базе знаний) | withdrawn")  # fmt: skip
    status_reason: str
    served_since: datetime | None
    reviewed_by: str | None
    reviewed_at: datetime | None


class WithdrawRequest(BaseModel):
    operator: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)


class ApproveRequest(BaseModel):
    operator: str | None = Field(
        default=None, min_length=1, max_length=200, pattern=NOT_BLANK,
        description="Игнорируется при входе оператора: записывается его имя",
    )  # fmt: skip


class WithdrawResponse(BaseModel):
    success: bool
    message: str


class ApproveResponse(WithdrawResponse):
    """The same shape as a withdrawal's answer, under its own name in the API schema."""


class MatchCandidate(BaseModel):
    key: str = Field(description="Id of the verified answer, or kb:<id> for a knowledge fact")
    text: str
    score: float = Field(description="Оценка классификатора (чем выше, тем ближе)")
    served: bool = Field(description="Выдаётся ли этот ответ из кэша")
    kind: str = Field(description="answer | fact")


class MatchExplanation(BaseModel):
    """Why the cache would (not) answer a question, and which answers came closest."""

    question: str
    served: bool
    reason: str
    margin: float | None
    nearest_similarity: float | None
    answer: MatchCandidate | None = Field(description="Ответ, который был бы выдан из кэша")
    candidates: list[MatchCandidate]
