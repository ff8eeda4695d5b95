"""The verified-answer cache for operators: what is served, on what evidence; withdrawal."""

from fastapi import APIRouter, Query

from app.access.deps import LoggedInOperatorDep, OperatorDep
from app.api.deps import SessionDep, SettingsDep
from app.api.schemas import NOT_BLANK, OPERATOR_ERRORS
from app.core.errors import VerifiedAnswerNotFoundError
from app.embeddings.deps import EmbeddingsDep
from app.verified_answers.deps import IndexDep, VerifiedAnswersDep
from app.verified_answers.listing import list_verified_answers, parse_answer_id
from app.verified_answers.matcher import Candidate, is_knowledge_fact
from app.verified_answers.schemas import (
    ApproveRequest,
    ApproveResponse,
    MatchCandidate,
    MatchExplanation,
    VerifiedAnswerEntry,
    WithdrawRequest,
    WithdrawResponse,
)

router = APIRouter(
    prefix="/api/voice", tags=["operator"], dependencies=[OperatorDep], responses=OPERATOR_ERRORS
)


@router.get(
    "/verified-answers",
    response_model=list[VerifiedAnswerEntry],
    summary="Проверенные ответы (кэш)",
)
def verified_answers(
    settings: SettingsDep,
    session: SessionDep,
    include_withdrawn: bool = Query(False, description="Показать и отозванные"),
    awaiting_review: bool = Query(
        False,
        description="Очередь оператора: ответы жильцов, которые уже выдаются или ждут "
        "проверки, и которые ни один оператор ещё не одобрил",
    ),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000_000),
) -> list[VerifiedAnswerEntry]:
    listed = list_verified_answers(
        session,
        include_withdrawn=include_withdrawn,
        limit=limit,
        offset=offset,
        min_sessions=settings.verify_min_sessions,
        awaiting_review=awaiting_review,
    )
    return [VerifiedAnswerEntry.model_validate(answer) for answer in listed]


MATCH_CANDIDATES = 5


@router.get(
    "/verified-answers/match",
    response_model=MatchExplanation,
    summary="Почему кэш ответил бы (или нет) на вопрос: решение и ближайшие ответы",
)
def explain_match(
    embeddings: EmbeddingsDep,
    index: IndexDep,
    session: SessionDep,
    question: str = Query(min_length=1, max_length=4000, pattern=NOT_BLANK),
) -> MatchExplanation:
    """The matcher's verdict on ``question`` as the answer pipeline would reach it (follow-ups
    aside), with the best-scored answers and facts. Nothing is logged or learned."""
    text = question.strip()  # the schema's pattern guarantees something is left
    matcher = index.current(session)
    vector = embeddings.question_vector(text)
    decision = matcher.decide(vector, text)
    ranked = matcher.ranked(vector, MATCH_CANDIDATES) if matcher.candidates else []
    return MatchExplanation(
        question=text,
        served=decision.serve,
        reason=decision.reason,
        margin=_finite(decision.margin),
        nearest_similarity=decision.nearest_similarity,
        answer=_described(
            decision.candidate,
            next((r.score for r in ranked if r.candidate is decision.candidate), None),
        )
        if decision.candidate
        else None,
        candidates=[_described(r.candidate, r.score) for r in ranked],
    )


def _described(candidate: Candidate, score: float | None) -> MatchCandidate:
    return MatchCandidate(
        key=candidate.key,
        text=candidate.text,
        score=round(score, 4) if score is not None else 0.0,
        served=candidate.verified,
        kind="fact" if is_knowledge_fact(candidate) else "answer",
    )


def _finite(value: float | None) -> float | None:
    """JSON has no infinity: a margin over no rival at all is reported as none."""
    return value if value is None or abs(value) != float("inf") else None


@router.post(
    "/verified-answers/{answer_id}/withdraw",
    response_model=WithdrawResponse,
    summary="Отозвать проверенный ответ",
)
def withdraw_verified_answer(
    answer_id: str,
    body: WithdrawRequest,
    verified: VerifiedAnswersDep,
    session: SessionDep,
    logged_in: LoggedInOperatorDep,
) -> WithdrawResponse:
    operator = logged_in or body.operator
    if not verified.withdraw(session, parse_answer_id(answer_id), operator):
        raise VerifiedAnswerNotFoundError(answer_id)
    return WithdrawResponse(success=True, message="Ответ отозван и больше не будет выдаваться")


@router.post(
    "/verified-answers/{answer_id}/approve",
    response_model=ApproveResponse,
    summary="Одобрить ответ жильцов (оператор)",
)
def approve_verified_answer(
    answer_id: str,
    verified: VerifiedAnswersDep,
    session: SessionDep,
    logged_in: LoggedInOperatorDep,
    body: ApproveRequest | None = None,
) -> ApproveResponse:
    """The operator vouches for the answer: it is served (and used as an example) like an
    operator's own, contact details included, and leaves the queue."""
    operator = logged_in or (body.operator if body else None) or "admin key"
    if not verified.approve(session, parse_answer_id(answer_id), operator):
        raise VerifiedAnswerNotFoundError(answer_id)
    return ApproveResponse(success=True, message="Ответ одобрен оператором")
