"""The seed's ``process`` and ``health``: the resident-facing half of ``/api/voice``."""

import uuid

from fastapi import APIRouter, BackgroundTasks, Header
from fastapi.responses import JSONResponse

from app.access.rate_limit import conversation_key
from app.answering.pipeline import Caller
from app.answering.schemas import HealthResponse, ProcessRequest, ProcessResponse
from app.api.deps import ClientAddressDep, ServicesDep
from app.api.schemas import error_responses

router = APIRouter(prefix="/api/voice", tags=["voice"])


@router.post(
    "/process",
    response_model=ProcessResponse,
    responses=error_responses(422, 429, 503),
    summary="Ответить на вопрос жильца",
)
def process_message(
    body: ProcessRequest,
    services: ServicesDep,
    client: ClientAddressDep,
    background: BackgroundTasks,
    x_conversation_token: str | None = Header(default=None, max_length=64),
) -> ProcessResponse:
    """The pipeline opens its own short transactions: no connection is held while a model
    is thinking. The question's vector, and what the question says about the answer before
    it (implicit signals), are stored after the response is sent."""
    identity = services.identity
    session_id = body.session_id or str(uuid.uuid4())
    caller = Caller(
        client_key=identity.client_key(client),
        holds_conversation_token=identity.holds_conversation(
            body.conversation_token or x_conversation_token, session_id
        ),
    )
    services.rate_limits.check(
        client,
        conversation_key(body.session_id, client, holds_token=caller.holds_conversation_token),
    )
    result = services.pipeline.process(body.message, session_id, caller)
    log = result.log
    background.add_task(
        services.embeddings.store_after_response, services.database, log.id, result.question_vector
    )
    background.add_task(services.signals.record_after_response, log.id, result.question_vector)
    return ProcessResponse(
        response=log.ai_response,
        log_id=log.id,
        session_id=log.session_id,
        model_used=log.model_used,
        response_time=round(log.response_time, 4),
        answer_source=log.answer_source,
        source_log_id=log.source_log_id,
        feedback_token=services.feedback_tokens.issue(log.id, log.session_id),
        conversation_token=(
            identity.conversation_token(log.session_id) if log.conversation_bound else None
        ),
    )


@router.get(
    "/health",
    response_model=HealthResponse,
    summary="Проверка состояния",
    responses={503: {"model": HealthResponse, "description": "База данных недоступна"}},
)
def health(services: ServicesDep):
    report = services.health.check()
    body = HealthResponse(
        status=report.status, components=report.working, details=report.components
    )
    if report.database_down:
        return JSONResponse(body.model_dump(), status_code=503)
    return body
