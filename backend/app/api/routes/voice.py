"""The seed's ``/api/voice/*`` endpoints: HTTP in, service calls, HTTP out."""

import logging
import uuid

from fastapi import APIRouter, BackgroundTasks, Header, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from app.api.deps import (
    DatabaseDep,
    EmbeddingsDep,
    OperatorDep,
    PipelineDep,
    ServicesDep,
    SettingsDep,
)
from app.api.schemas import (
    EmbeddingsUpdateResponse,
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    HealthResponse,
    LearningStatus,
    ProcessRequest,
    ProcessResponse,
    SimilarDialog,
)
from app.core.errors import FeedbackNotAllowedError, LogNotFoundError, ServiceUnavailableError
from app.db.database import Database
from app.db.models import ModelMetrics, VoiceLog
from app.embeddings.service import EmbeddingService
from app.feedback.service import parse_log_id, record_feedback
from app.quality.retraining_rule import decide_now, summarize_ratings

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/voice", tags=["voice"])

ERRORS = {
    404: {"model": ErrorResponse, "description": "Запись не найдена"},
    422: {"model": ErrorResponse, "description": "Некорректные данные"},
    503: {"model": ErrorResponse, "description": "База данных недоступна"},
}
#: Endpoints that show other residents' dialogs or cost work: operators only.
OPERATOR_ERRORS = ERRORS | {
    401: {"model": ErrorResponse, "description": "Нет ключа оператора или он неверный"},
    403: {"model": ErrorResponse, "description": "Операторские функции отключены"},
}


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _session_of(services, log_id: str) -> tuple[uuid.UUID, str]:
    """The rated log's id and conversation; 404 for a log that does not exist."""
    log_uuid = parse_log_id(log_id)
    with services.database.session() as session:
        session_id = session.scalar(select(VoiceLog.session_id).where(VoiceLog.id == log_uuid))
    if session_id is None:
        raise LogNotFoundError(log_id)
    return log_uuid, session_id


def store_question_vector(
    database: Database, embeddings: EmbeddingService, log_id: uuid.UUID, vector
) -> None:
    """Runs after the response is sent. A failure here only delays the vector: the
    ``embeddings/update`` backfill picks up every log that has none."""
    try:
        if vector is None:
            with database.session() as session:
                message = session.get(VoiceLog, log_id).user_message
            vector = embeddings.question_vector(message)
        with database.session() as session:
            embeddings.store_log_vectors(session, [(log_id, vector)])
            session.commit()
    except Exception:
        logger.exception("embedding of log %s deferred to the backfill", log_id)


@router.post(
    "/process",
    response_model=ProcessResponse,
    responses=ERRORS | {429: {"model": ErrorResponse, "description": "Слишком много вопросов"}},
    summary="Ответить на вопрос жильца",
)
def process_message(
    body: ProcessRequest,
    request: Request,
    services: ServicesDep,
    pipeline: PipelineDep,
    database: DatabaseDep,
    embeddings: EmbeddingsDep,
    background: BackgroundTasks,
) -> ProcessResponse:
    services.rate_limits.check(client_address(request), body.session_id)
    result = pipeline.process(body.message, body.session_id)
    log = result.log
    background.add_task(store_question_vector, database, embeddings, log.id, result.question_vector)
    return ProcessResponse(
        response=log.ai_response,
        log_id=str(log.id),
        session_id=log.session_id,
        model_used=log.model_used,
        response_time=round(log.response_time, 4),
        answer_source=log.answer_source,
        source_log_id=str(log.source_log_id) if log.source_log_id else None,
        feedback_token=services.feedback_tokens.issue(log.id, log.session_id),
    )


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    responses=ERRORS
    | {
        403: {"model": ErrorResponse, "description": "Нет feedback_token этого ответа"},
        429: {"model": ErrorResponse, "description": "Слишком много оценок"},
    },
    summary="Оценить ответ (1–5 звёзд)",
)
def give_feedback(
    body: FeedbackRequest,
    request: Request,
    services: ServicesDep,
    x_feedback_token: str | None = Header(default=None, max_length=64),
) -> FeedbackResponse:
    log_id, conversation = _session_of(services, body.log_id)
    # Limited before the token is checked: guessing tokens is flooding too.
    services.rate_limits.check(client_address(request), conversation)
    token = body.feedback_token or x_feedback_token
    if not services.feedback_tokens.valid(token, log_id, conversation):
        raise FeedbackNotAllowedError()
    feedback = record_feedback(
        services.database, services.verified, body.log_id, body.rating, body.feedback_text
    )
    return FeedbackResponse(
        success=True,
        message="Спасибо за оценку!",
        log_id=str(feedback.log_id),
        rating=feedback.rating,
    )


@router.get(
    "/self-learning/status",
    response_model=LearningStatus,
    responses=OPERATOR_ERRORS,
    summary="Состояние самообучения",
    dependencies=[OperatorDep],
)
def learning_status(services: ServicesDep, settings: SettingsDep) -> LearningStatus:
    with services.database.session() as session:
        summary = summarize_ratings(session)
        window, decision = decide_now(session, settings)
        latest = session.scalar(select(ModelMetrics).order_by(ModelMetrics.id.desc()).limit(1))
    return LearningStatus(
        total_interactions=summary.total_interactions,
        avg_rating=summary.avg_rating,
        positive_ratings_count=summary.positive,
        negative_ratings_count=summary.negative,
        current_model=services.pipeline.current_model(),
        requires_retraining=decision.required,
        rated_interactions=summary.rated,
        retraining_reasons=decision.reasons,
        decision_window_days=settings.retraining_window_days,
        window_metrics=window.as_dict(),
        latest_metrics=(latest.details | {"id": latest.id}) if latest is not None else None,
    )


@router.get(
    "/similar/{log_id}",
    response_model=list[SimilarDialog],
    responses=OPERATOR_ERRORS,
    summary="Похожие прошлые диалоги",
    dependencies=[OperatorDep],
)
def similar_dialogs(
    log_id: str,
    database: DatabaseDep,
    embeddings: EmbeddingsDep,
    limit: int = Query(default=5, ge=1, le=50),
) -> list[SimilarDialog]:
    log_uuid = parse_log_id(log_id)
    with database.session() as session:
        log = session.get(VoiceLog, log_uuid)
        if log is None:
            raise LogNotFoundError(log_id)
        vector = embeddings.stored_vector(session, log_uuid)
        if vector is None:
            vector = _embed_now(embeddings, log.user_message)
            embeddings.store_log_vectors(session, [(log_uuid, vector)])
            session.commit()
        similar = embeddings.similar_logs(session, vector, limit=limit, exclude_log_id=log_uuid)
    return [
        SimilarDialog(
            log_id=str(s.log.id),
            user_message=s.log.user_message,
            ai_response=s.log.ai_response,
            similarity_score=round(s.similarity, 6),
            rating=s.log.rating,
        )
        for s in similar
    ]


def _embed_now(embeddings: EmbeddingService, text: str):
    try:
        return embeddings.question_vector(text)
    except Exception as error:
        raise ServiceUnavailableError("Сервис векторного поиска временно недоступен") from error


@router.get(
    "/health",
    response_model=HealthResponse,
    summary="Проверка состояния",
    responses={503: {"model": HealthResponse, "description": "База данных недоступна"}},
)
def health(services: ServicesDep):
    report = services.health.check()
    body = HealthResponse(status=report.status, components=report.components)
    if report.database_down:
        return JSONResponse(body.model_dump(), status_code=503)
    return body


@router.post(
    "/embeddings/update",
    response_model=EmbeddingsUpdateResponse,
    responses=OPERATOR_ERRORS,
    summary="Досчитать недостающие векторы",
    dependencies=[OperatorDep],
)
def update_embeddings(
    database: DatabaseDep,
    embeddings: EmbeddingsDep,
    batch_size: int = Query(default=100, ge=1, le=1000),
) -> EmbeddingsUpdateResponse:
    result = embeddings.backfill_missing(database, batch_size=batch_size)
    return EmbeddingsUpdateResponse(
        success=result.errors == 0,
        processed=result.processed,
        errors=result.errors,
        total_found=result.total_found,
    )
