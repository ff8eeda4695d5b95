"""The operators' view of the cache: every verified answer with the evidence behind it,
and the queue of residents' answers no operator has looked at yet."""

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import VerifiedAnswerNotFoundError
from app.db.models import AnswerEvidence, VerifiedAnswer, VerifiedKind
from app.verified_answers.service import residents_support, standing_of, trusted_contacts
from app.verified_answers.trust import Standing, Support


@dataclass(frozen=True)
class ListedAnswer:
    """A verified answer with the evidence figures beside it. It reads like the row (any
    other attribute is the row's), so the response schema validates straight from it."""

    row: VerifiedAnswer
    approved_questions: int
    refused_questions: int
    support: Support
    standing: Standing

    @property
    def approving_clients(self) -> int:
        return self.support.approving_clients

    @property
    def refusing_clients(self) -> int:
        return self.support.refusing_clients

    @property
    def verified(self) -> bool:
        return self.row.withdrawn_at is None and self.standing.served

    @property
    def status(self) -> str:
        if self.row.withdrawn_at is not None:
            return "withdrawn"
        if self.standing.served:
            return "served"
        return "held" if self.standing.waits_for_operator else "pending"

    @property
    def status_reason(self) -> str:
        return self.row.withdrawn_reason or self.standing.reason

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
    session: Session,
    *,
    include_withdrawn: bool,
    limit: int,
    offset: int,
    min_sessions: int,
    awaiting_review: bool = False,
) -> list[ListedAnswer]:
    """Newest first; ``verified`` applies the same rule the matcher serves by.

    ``awaiting_review``: the operators' queue — residents' answers no operator approved
    yet that are served already or held for one, newest served first."""
    query = select(VerifiedAnswer, _evidence_count(True), _evidence_count(False))
    if not include_withdrawn or awaiting_review:
        query = query.where(VerifiedAnswer.withdrawn_at.is_(None))
    order = [VerifiedAnswer.created_at.desc()]
    if awaiting_review:
        query = query.where(
            VerifiedAnswer.kind == VerifiedKind.RATED, VerifiedAnswer.reviewed_at.is_(None)
        )
        order.insert(0, VerifiedAnswer.served_since.desc().nulls_last())
    if not awaiting_review:  # the queue's status is computed below, so it pages after
        query = query.limit(limit).offset(offset)
    rows = session.execute(query.order_by(*order)).all()
    support = residents_support(session, [answer.id for answer, _, _ in rows])
    contacts = trusted_contacts(session)
    listed = [
        ListedAnswer(
            answer,
            approved,
            refused,
            support[answer.id],
            standing_of(answer, support[answer.id], contacts, min_sessions),
        )
        for answer, approved, refused in rows
    ]
    if not awaiting_review:
        return listed
    queue = [a for a in listed if a.status in {"served", "held"}]
    return queue[offset : offset + limit]


def parse_answer_id(value: str) -> uuid.UUID:
    """A malformed id names no answer: the same 404 as an unknown one."""
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise VerifiedAnswerNotFoundError(value) from error
