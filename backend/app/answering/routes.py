"""The seed's ``process`` and ``health``: the resident-facing half of ``/api/voice``."""

from typing import Annotated, TypeVar

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from app.access.deps import ClientAddressDep, FeedbackTokensDep, IdentityDep
from app.answering.deps import TurnsDep
from app.answering.schemas import (
    ProcessRequest,
    ProcessResponse,
    SpokenQuestionFields,
    process_request_body,
)
from app.answering.turns import Question
from app.api.deps import SettingsDep
from app.api.forms import multipart_form
from app.api.schemas import error_responses
from app.core.errors import UnsupportedAudioError
from app.voice.audio import UNREADABLE, declared_as_audio
from app.voice.deps import SpeechOutputDep

router = APIRouter(prefix="/api/voice", tags=["voice"])
_Body = TypeVar("_Body", bound=BaseModel)


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


async def read_question(request: Request, settings: SettingsDep) -> Question:
    """JSON as in the seed, or multipart with ``audio`` (read no further than the limit)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        body = _validated(ProcessRequest, await request.body())
        return Question(
            body.session_id, body.conversation_token, message=body.message, speak=body.speak
        )
    async with multipart_form(request, max_files=1, max_fields=5) as form:
        audio = form.get("audio")
        fields = _validated(
            SpokenQuestionFields, {k: v for k, v in form.items() if isinstance(v, str)}
        )
        if not isinstance(audio, UploadFile):
            raise RequestValidationError(
                [{"type": "missing", "loc": ("body", "audio"), "msg": "Field required"}]
            )
        if not declared_as_audio(audio.content_type):
            raise UnsupportedAudioError(f"{UNREADABLE} (файл объявлен как {audio.content_type})")
        data = await audio.read(settings.max_audio_bytes + 1)
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
    turns: TurnsDep,
    tokens: FeedbackTokensDep,
    identity: IdentityDep,
    speech: SpeechOutputDep,
    client: ClientAddressDep,
    background: BackgroundTasks,
    x_conversation_token: str | None = Header(default=None, max_length=64),
) -> ProcessResponse:
    """The pipeline opens its own short transactions: no connection is held while a model
    is thinking. The question's vector, and what the question says about the answer before
    it (implicit signals), are stored after the response is sent."""
    log, transcript = turns.take(client, background, body, x_conversation_token)
    return ProcessResponse(
        response=log.ai_response,
        log_id=log.id,
        session_id=log.session_id,
        model_used=log.model_used,
        response_time=round(log.response_time, 4),
        answer_source=log.answer_source,
        source_log_id=log.source_log_id,
        feedback_token=tokens.issue(log.id, log.session_id),
        conversation_token=(
            identity.conversation_token(log.session_id) if log.conversation_bound else None
        ),
        transcript=transcript.text if transcript else None,
        asr_confidence=transcript.confidence if transcript else None,
        speech_wav_base64=speech.inline(log.ai_response) if body.speak else None,
    )
