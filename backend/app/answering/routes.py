"""The seed's ``process`` and ``health``: the resident-facing half of ``/api/voice``."""

import uuid
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from app.access.rate_limit import conversation_key
from app.answering.pipeline import Caller
from app.answering.schemas import (
    HealthResponse,
    ProcessRequest,
    ProcessResponse,
    SpokenQuestionFields,
    process_request_body,
)
from app.api.deps import ClientAddressDep, ServicesDep
from app.api.schemas import error_responses

router = APIRouter(prefix="/api/voice", tags=["voice"])
_Body = TypeVar("_Body", bound=BaseModel)


@dataclass(frozen=True)
class Question:
    """What ``process`` was sent: a typed message, or a recording to transcribe."""

    session_id: str | None
    conversation_token: str | None
    message: str | None = None
    audio: bytes | None = None
    filename: str = ""
    speak: bool = False


def _validated(model: type[_Body], raw: bytes | dict) -> _Body:
    """FastAPI's own 422 for a body read by hand."""
    try:
        if isinstance(raw, bytes):
            return model.model_validate_json(raw)
        return model.model_validate(raw)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from error


async def read_question(request: Request, services: ServicesDep) -> Question:
    """JSON as in the seed, or multipart with ``audio`` (read no further than the limit)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        body = _validated(ProcessRequest, await request.body())
        return Question(
            body.session_id, body.conversation_token, message=body.message, speak=body.speak
        )
    async with request.form(max_files=1, max_fields=5) as form:
        audio = form.get("audio")
        fields = _validated(
            SpokenQuestionFields, {k: v for k, v in form.items() if isinstance(v, str)}
        )
        if not isinstance(audio, UploadFile):
            raise RequestValidationError(
                [{"type": "missing", "loc": ("body", "audio"), "msg": "Field required"}]
            )
        data = await audio.read(services.settings.max_audio_bytes + 1)
        return Question(
            fields.session_id,
            fields.conversation_token,
            audio=data,
            filename=audio.filename or "",
            speak=fields.speak,
        )


@router.post(
    "/process",
    response_model=ProcessResponse,
    responses=error_responses(413, 415, 422, 429, 503),
    summary="Ответить на вопрос жильца (текстом или голосом)",
    openapi_extra={"requestBody": process_request_body()},
)
def process_message(
    body: Annotated[Question, Depends(read_question)],
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
    transcript = None
    if body.audio is not None:
        transcript = services.speech_input.hear(body.audio, body.filename)
    result = services.pipeline.process(
        transcript.text if transcript else body.message,
        session_id,
        caller,
        asr_confidence=transcript.confidence if transcript else None,
    )
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
        transcript=transcript.text if transcript else None,
        asr_confidence=transcript.confidence if transcript else None,
        speech_wav_base64=services.speech_output.inline(log.ai_response) if body.speak else None,
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
