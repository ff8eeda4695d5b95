"""Ratings (residents, ``POST /feedback``), corrections and the review queue (operators)."""

import asyncio
from datetime import UTC, datetime
from functools import partial
from typing import Literal

from fastapi import APIRouter, BackgroundTasks, Header, Query
from starlette.concurrency import run_in_threadpool

from app.access.deps import ClientAddressDep, LoggedInOperatorDep, OperatorDep
from app.alerts.deps import AlertsDep
from app.api.csv_export import csv_response
from app.api.deps import RowId, SessionDep
from app.api.schemas import OPERATOR_ERRORS, PLAIN_TEXT, error_responses
from app.core.errors import LogNotFoundError
from app.db.models import AnswerSource, SignalKind, VoiceLog
from app.feedback.deps import LearningQueueDep, RatingsDep
from app.feedback.schemas import (
    CorrectionRequest,
    CorrectionResponse,
    FeedbackRequest,
    FeedbackResponse,
    LogEntry,
    LogPage,
    SignalEntry,
)
from app.feedback.service import LogFilters, LogOrder, log_page, record_correction
from app.feedback.signal_recorder import signals_of
from app.monitoring.deps import MetricsDep
from app.verified_answers.deps import VerifiedAnswersDep
from app.verified_answers.review import announce, announcement
from app.voice.deps import RecordingsDep

NOT_THE_RECIPIENT = "Оценивает не тот, кто получил ответ (чужой feedback_token или адрес)"
router = APIRouter(prefix="/api/voice", tags=["voice"], responses=error_responses(404, 422, 503))
operator_router = APIRouter(
    prefix="/api/voice", tags=["operator"], dependencies=[OperatorDep], responses=OPERATOR_ERRORS
)


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    responses={
        403: error_responses(403)[403] | {"description": NOT_THE_RECIPIENT},
        429: error_responses(429)[429],
    },
    summary="Оценить ответ (1–5 звёзд)",
)
async def give_feedback(
    body: FeedbackRequest,
    ratings: RatingsDep,
    metrics: MetricsDep,
    alerts: AlertsDep,
    client: ClientAddressDep,
    background: BackgroundTasks,
    x_feedback_token: str | None = Header(default=None, max_length=64),
) -> FeedbackResponse:
    """Async so that a rating waiting for its learning batch holds no thread: questions
    need the threads."""
    queued = await run_in_threadpool(
        partial(ratings.rate, token=body.feedback_token or x_feedback_token,
                client_address=client),
        body.log_id, body.rating, body.feedback_text,
    )  # fmt: skip
    feedback = await asyncio.wrap_future(queued)
    metrics.rated(feedback.rating)
    news = announcement(feedback.learned)
    if news is not None:  # after the response, hence after the commit
        background.add_task(announce, alerts, news)
    return FeedbackResponse(
        success=True, message="Спасибо за оценку!", log_id=feedback.log_id,
        rating=feedback.rating,
    )  # fmt: skip


@operator_router.post(
    "/logs/{log_id}/correction", response_model=CorrectionResponse, summary="Исправить ответ бота"
)
def correct_answer(
    log_id: str,
    body: CorrectionRequest,
    verified: VerifiedAnswersDep,
    learning: LearningQueueDep,
    logged_in: LoggedInOperatorDep,
) -> CorrectionResponse:
    """``corrected_by`` is the logged-in operator; the body's name counts only with the
    shared admin key, which names nobody."""
    operator = logged_in or body.operator
    verified.prepare_answer(body.corrected_response)
    correction = learning.run(
        lambda session: record_correction(
            session, verified, log_id, body.corrected_response, operator
        )
    )
    return CorrectionResponse(
        success=True,
        message="Исправление сохранено и будет использоваться в ответах",
        log_id=correction.log_id,
        verified_answer_id=(
            str(correction.verified_answer_id) if correction.verified_answer_id else None
        ),
    )


@operator_router.get("/logs", response_model=LogPage, summary="Диалоги для проверки")
def list_logs(
    session: SessionDep,
    recordings: RecordingsDep,
    rating_lte: int | None = Query(None, ge=1, le=5, description="Оценка не выше"),
    rating_gte: int | None = Query(None, ge=1, le=5, description="Оценка не ниже"),
    unrated: bool = Query(False, description="Только диалоги без оценки"),
    uncorrected: bool = Query(False, description="Только без исправления оператора"),
    answer_source: AnswerSource | None = Query(None, description="Откуда ответ"),
    session_id: str | None = Query(None, max_length=128, pattern=PLAIN_TEXT),
    needs_review: bool = Query(
        False,
        description="Оценка не выше 2 или без оценки, но жилец переспросил или позвал оператора",
    ),
    order: LogOrder = Query(
        LogOrder.NEWEST, description="newest — новые сверху; dissatisfaction — вероятно недовольные"
    ),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000_000),
    format: Literal["json", "csv"] = Query("json", description="csv — скачать таблицей"),
) -> LogPage:
    """Newest first. ``rating_lte=2&uncorrected=true`` is the seed's review queue;
    ``needs_review=true&uncorrected=true&order=dissatisfaction`` adds the unrated answers
    residents re-asked or escalated, the probably unhappiest first."""
    filters = LogFilters(
        rating_lte, rating_gte, unrated, uncorrected, answer_source, session_id, needs_review
    )
    total, logs = log_page(session, filters, limit, offset, order)
    signals = signals_of(session, [log.id for log in logs])
    recorded = recordings.held_for(session, [log.id for log in logs], datetime.now(UTC))
    items = [
        LogEntry.model_validate(log).model_copy(
            update={
                "signals": [SignalKind(signal.kind) for signal in signals[log.id]],
                "has_recording": log.id in recorded,
            }
        )
        for log in logs
    ]
    page = LogPage(total=total, items=items)
    if format == "csv":
        rows = [item.model_dump(mode="json") | {"signals": ", ".join(item.signals)}
                for item in page.items]  # fmt: skip
        return csv_response(rows, "dialogs.csv")
    return page


@operator_router.get(
    "/logs/{log_id}/signals",
    response_model=list[SignalEntry],
    summary="Что следующие сообщения жильца сказали об ответе (без оценки)",
)
def log_signals(log_id: RowId, session: SessionDep) -> list[SignalEntry]:
    """Re-asks, requests for a person and thanks recorded about this answer, with their
    evidence; 404 for a log that does not exist."""
    if session.get(VoiceLog, log_id) is None:
        raise LogNotFoundError(log_id)
    return [SignalEntry.model_validate(row) for row in signals_of(session, [log_id])[log_id]]
