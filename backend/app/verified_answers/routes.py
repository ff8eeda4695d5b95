"""The verified-answer cache for operators: what is served, on what evidence; withdrawal."""

from fastapi import APIRouter, Query

from app.api.deps import OperatorDep, ServicesDep, SessionDep
from app.api.schemas import OPERATOR_ERRORS
from app.core.errors import VerifiedAnswerNotFoundError
from app.verified_answers.listing import list_verified_answers, parse_answer_id
from app.verified_answers.schemas import VerifiedAnswerEntry, WithdrawRequest, WithdrawResponse

router = APIRouter(
    prefix="/api/voice", tags=["operator"], dependencies=[OperatorDep], responses=OPERATOR_ERRORS
)


@router.get(
    "/verified-answers",
    response_model=list[VerifiedAnswerEntry],
    summary="Проверенные ответы (кэш)",
)
def verified_answers(
    services: ServicesDep,
    session: SessionDep,
    include_withdrawn: bool = Query(False, description="Показать и отозванные"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000_000),
) -> list[VerifiedAnswerEntry]:
    listed = list_verified_answers(
        session,
        include_withdrawn=include_withdrawn,
        limit=limit,
        offset=offset,
        min_sessions=services.settings.verify_min_sessions,
    )
    return [VerifiedAnswerEntry.model_validate(answer) for answer in listed]


@router.post(
    "/verified-answers/{answer_id}/withdraw",
    response_model=WithdrawResponse,
    summary="Отозвать проверенный ответ",
)
def withdraw_verified_answer(
    answer_id: str, body: WithdrawRequest, services: ServicesDep, session: SessionDep
) -> WithdrawResponse:
    if not services.verified.withdraw(session, parse_answer_id(answer_id), body.operator):
        raise VerifiedAnswerNotFoundError(answer_id)
    return WithdrawResponse(success=True, message="Ответ отозван и больше не будет выдаваться")
