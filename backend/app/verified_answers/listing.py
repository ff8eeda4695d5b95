"""The operators' view of the cache: every verified answer with the evidence behind it."""

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import VerifiedAnswerNotFoundError
from app.db.models import AnswerEvidence, VerifiedAnswer
from app.verified_answers.service import conversations_judging, is_served


@dataclass(frozen=True)
class ListedAnswer:
    """A verified answer with the evidence figures beside it. It reads like the row (any
    other attribute is the row's), so the response schema validates straight from it."""

    row: VerifiedAnswer
    approved_questions: int
    refused_questions: int
    approving_conversations: int
    verified: bool

    def __getattr__(self, name: str) -> object:
        return getattr(self.row, name)


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
            answer,
            approved,
            refused,
            conversations,
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
