"""Operator endpoints: correct answers, review what residents rated low, manage verified
answers. All need ``Authorization: Bearer <ADMIN_API_KEY>``."""

import uuid
from typing import Literal

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from app.alerts.service import Alerts
from app.api.csv_export import csv_response
from app.api.deps import OperatorDep, ServicesDep
from app.api.operator_schemas import (
    CorrectionRequest,
    CorrectionResponse,
    LogEntry,
    LogPage,
    ModelVersionEntry,
    VerifiedAnswerEntry,
    WithdrawRequest,
)
from app.api.schemas import ErrorResponse
from app.core.errors import InvalidInputError, LogNotFoundError, VerifiedAnswerNotFoundError
from app.db.models import ANSWER_SOURCES, AnswerEvidence, ModelVersion, VerifiedAnswer, VoiceLog
from app.feedback.service import parse_log_id, record_correction
from app.verified_answers.service import conversations_judging, is_served

router = APIRouter(prefix="/api/voice", tags=["operator"], dependencies=[OperatorDep])

ERRORS = {
    401: {"model": ErrorResponse, "description": "Нет ключа оператора или он неверный"},
    403: {"model": ErrorResponse, "description": "Операторские функции отключены"},
    404: {"model": ErrorResponse, "description": "Запись не найдена"},
    422: {"model": ErrorResponse, "description": "Некорректные данные"},
}


@router.post(
    "/logs/{log_id}/correction",
    response_model=CorrectionResponse,
    responses=ERRORS,
    summary="Исправить ответ бота",
)
def correct_answer(log_id: str, body: CorrectionRequest, services: ServicesDep):
    correction = record_correction(
        services.database, services.verified, log_id, body.corrected_response, body.operator
    )
    return CorrectionResponse(
        success=True,
        message="Исправление сохранено и будет использоваться в ответах",
        log_id=str(correction.log_id),
        verified_answer_id=(
            str(correction.verified_answer_id) if correction.verified_answer_id else None
        ),
    )


@router.get("/logs", response_model=LogPage, responses=ERRORS, summary="Диалоги для проверки")
def list_logs(
    services: ServicesDep,
    rating_lte: int | None = Query(None, ge=1, le=5, description="Оценка не выше"),
    rating_gte: int | None = Query(None, ge=1, le=5, description="Оценка не ниже"),
    unrated: bool = Query(False, description="Только диалоги без оценки"),
    uncorrected: bool = Query(False, description="Только без исправления оператора"),
    answer_source: str | None = Query(None, description="cache | local | llm | …"),
    session_id: str | None = Query(None, max_length=128),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000_000),
    format: Literal["json", "csv"] = Query("json", description="csv — скачать таблицей"),
) -> LogPage:
    """Newest first. ``rating_lte=2&uncorrected=true`` is the review queue."""
    if answer_source is not None and answer_source not in ANSWER_SOURCES:
        raise InvalidInputError(f"answer_source: допустимые значения — {', '.join(ANSWER_SOURCES)}")
    filters = []
    if rating_lte is not None:
        filters.append(VoiceLog.rating <= rating_lte)
    if rating_gte is not None:
        filters.append(VoiceLog.rating >= rating_gte)
    if unrated:
        filters.append(VoiceLog.rating.is_(None))
    if uncorrected:
        filters.append(VoiceLog.corrected_response.is_(None))
    if answer_source is not None:
        filters.append(VoiceLog.answer_source == answer_source)
    if session_id is not None:
        filters.append(VoiceLog.session_id == session_id)
    with services.database.session() as session:
        total = session.scalar(select(func.count()).select_from(VoiceLog).where(*filters))
        logs = session.scalars(
            select(VoiceLog)
            .where(*filters)
            .order_by(VoiceLog.created_at.desc(), VoiceLog.id)
            .limit(limit)
            .offset(offset)
        ).all()
    page = LogPage(total=total or 0, items=[_log_entry(log) for log in logs])
    if format == "csv":
        return csv_response([item.model_dump(mode="json") for item in page.items], "dialogs.csv")
    return page


def _log_entry(log: VoiceLog) -> LogEntry:
    return LogEntry(
        log_id=str(log.id),
        session_id=log.session_id,
        user_message=log.user_message,
        ai_response=log.ai_response,
        model_used=log.model_used,
        answer_source=log.answer_source,
        source_log_id=str(log.source_log_id) if log.source_log_id else None,
        rating=log.rating,
        feedback_text=log.feedback_text,
        corrected_response=log.corrected_response,
        corrected_by=log.corrected_by,
        created_at=log.created_at,
    )


@router.get(
    "/verified-answers",
    response_model=list[VerifiedAnswerEntry],
    responses=ERRORS,
    summary="Проверенные ответы (кэш)",
)
def list_verified_answers(
    services: ServicesDep,
    include_withdrawn: bool = Query(False, description="Показать и отозванные"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000_000),
) -> list[VerifiedAnswerEntry]:
    def evidence_count(agrees: bool):
        return (
            select(func.count())
            .where(
                AnswerEvidence.verified_answer_id == VerifiedAnswer.id,
                AnswerEvidence.agrees.is_(agrees),
            )
            .scalar_subquery()
        )

    approving_conversations = conversations_judging(
        VerifiedAnswer.id, agrees=True
    ).scalar_subquery()
    query = select(
        VerifiedAnswer, evidence_count(True), evidence_count(False), approving_conversations
    )
    if not include_withdrawn:
        query = query.where(VerifiedAnswer.withdrawn_at.is_(None))
    with services.database.session() as session:
        rows = session.execute(
            query.order_by(VerifiedAnswer.created_at.desc()).limit(limit).offset(offset)
        ).all()
    return [
        VerifiedAnswerEntry(
            id=str(answer.id),
            answer_text=answer.answer_text,
            kind=answer.kind,
            source_log_id=str(answer.source_log_id) if answer.source_log_id else None,
            created_by=answer.created_by,
            created_at=answer.created_at,
            confirmed_at=answer.confirmed_at,
            withdrawn_at=answer.withdrawn_at,
            withdrawn_reason=answer.withdrawn_reason,
            approved_questions=approved,
            refused_questions=refused,
            approving_conversations=conversations,
            verified=answer.withdrawn_at is None
            and is_served(answer.kind, conversations, services.settings.verify_min_sessions),
        )
        for answer, approved, refused, conversations in rows
    ]


@router.post(
    "/verified-answers/{answer_id}/withdraw",
    responses=ERRORS,
    summary="Отозвать проверенный ответ",
)
def withdraw_verified_answer(answer_id: str, body: WithdrawRequest, services: ServicesDep):
    verified_id = _parse_id(answer_id)
    with services.database.session() as session:
        found = services.verified.withdraw(session, verified_id, body.operator)
        session.commit()
    if not found:
        raise VerifiedAnswerNotFoundError(answer_id)
    return {"success": True, "message": "Ответ отозван и больше не будет выдаваться"}


def _parse_id(value: str) -> uuid.UUID:
    try:
        return parse_log_id(value)
    except LogNotFoundError as error:
        raise VerifiedAnswerNotFoundError(value) from error


@router.get(
    "/models",
    response_model=list[ModelVersionEntry],
    responses=ERRORS,
    summary="Версии локальной модели",
)
def list_model_versions(
    services: ServicesDep,
    format: Literal["json", "csv"] = Query("json", description="csv — скачать таблицей"),
) -> list[ModelVersionEntry]:
    with services.database.session() as session:
        rows = session.scalars(select(ModelVersion).order_by(ModelVersion.created_at.desc()))
        entries = [_model_entry(row) for row in rows]
    if format == "csv":
        flat = [e.model_dump(mode="json", exclude={"metrics"}) | e.metrics for e in entries]
        return csv_response(flat, "models.csv")
    return entries


@router.post(
    "/models/{version_id}/activate",
    response_model=ModelVersionEntry,
    responses=ERRORS,
    summary="Включить версию локальной модели (без перезапуска)",
)
def activate_model_version(version_id: int, services: ServicesDep) -> ModelVersionEntry:
    return _model_entry(services.local_models.activate(version_id))


@router.post(
    "/models/rollback",
    response_model=ModelVersionEntry,
    responses=ERRORS,
    summary="Вернуть предыдущую версию локальной модели",
)
def rollback_model_version(services: ServicesDep) -> ModelVersionEntry:
    restored = services.local_models.rollback()
    Alerts(services.database, services.settings).raise_alert(
        "model_rolled_back", f"Откат на модель {restored.name}", {"version_id": restored.id}
    )
    return _model_entry(restored)


def _model_entry(row: ModelVersion) -> ModelVersionEntry:
    return ModelVersionEntry(
        id=row.id,
        name=row.name,
        base_model=row.base_model,
        dataset_path=row.dataset_path,
        path=row.path,
        adapter=row.adapter,
        metrics=row.metrics or {},
        status=row.status,
        created_at=row.created_at,
        activated_at=row.activated_at,
    )
