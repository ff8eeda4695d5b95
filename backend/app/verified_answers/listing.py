"""The operators' view of the cache: every verified answer with the evidence behind it."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import VerifiedAnswerNotFoundError
from app.db.models import AnswerEvidence, VerifiedAnswer
from app.verified_answers.service import conversations_judging, is_served


@dataclass(frozen=True)
class ListedAnswer:
    id: uuid.UUID
    answer_text: str
    kind: str
    source_log_id: int | None
    created_by: str | None
    created_at: datetime
    confirmed_at: datetime
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    approved_questions: int
    refused_questions: int
    approving_conversations: int
    verified: bool


def _evidence_count(agrees: bool):
    return (
        select(func.count())
        .where(
            AnswerEvidence.verified_answer_id == VerifiedAnswer.id,
            AnswerEvidence.agrees.is_(agrees),
        )
        .scalar_subquery()
    )


def list_verified_answers(
    session: Session, *, include_withdrawn: bool, limit: int, offset: int, min_sessions: int
) -> list[ListedAnswer]:
    """Newest first; ``verified`` applies the same rule the matcher serves by."""
    approving = conversations_judging(VerifiedAnswer.id, agrees=True).scalar_subquery()
    query = select(VerifiedAnswer, _evidence_count(True), _evidence_count(False), approving)
    if not include_withdrawn:
        query = query.where(VerifiedAnswer.withdrawn_at.is_(None))
    rows = session.execute(
        query.order_by(VerifiedAnswer.created_at.desc()).limit(limit).offset(offset)
    ).all()
    return [
        ListedAnswer(
            id=answer.id,
            answer_text=answer.answer_text,
            kind=answer.kind,
            source_log_id=answer.source_log_id,
            created_by=answer.created_by,
            created_at=answer.created_at,
            confirmed_at=answer.confirmed_at,
            withdrawn_at=answer.withdrawn_at,
            withdrawn_reason=answer.withdrawn_reason,
            approved_questions=approved,
            refused_questions=refused,
            approving_conversations=conversations,
            verified=answer.withdrawn_at is None
            and is_served(answer.kind, conversations, min_sessions),
        )
        for answer, approved, refused, conversations in rows
    ]


def parse_answer_id(value: str) -> uuid.UUID:
    """A malformed id names no answer: the same 404 as an unknown one."""
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise VerifiedAnswerNotFoundError(value) from error
