"""Answers read aloud: ``GET /api/voice/logs/{log_id}/speech``."""

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from app.answering.logs import get_log
from app.api.deps import BearerDep, RowId, ServicesDep, require_operator
from app.api.schemas import error_responses

router = APIRouter(prefix="/api/voice", tags=["voice"])


@router.get(
    "/logs/{log_id}/speech",
    responses={
        200: {"content": {"audio/wav": {}}, "description": "Ответ голосом (WAV)"},
        **error_responses(401, 403, 404, 422, 503),
    },
    response_class=Response,
    summary="Ответ голосом",
)
def answer_speech(
    log_id: RowId,
    services: ServicesDep,
    credentials: BearerDep,
    feedback_token: str | None = Query(default=None, max_length=256),
    x_feedback_token: str | None = Header(default=None, max_length=256),
) -> Response:
    """The answer of ``log_id`` as speech, for the conversation that got it (its
    ``feedback_token``, as for ratings) or an operator. Synthesised once per text."""
    with services.database.session() as session:
        log = get_log(session, log_id)
        answer, session_id = log.ai_response, log.session_id
    token = feedback_token or x_feedback_token
    if not services.feedback_tokens.valid(token, log_id, session_id):
        require_operator(services, credentials)
    audio = services.speech_output.speak(answer)
    private = {"Cache-Control": "private, max-age=86400"}
    return Response(audio, media_type="audio/wav", headers=private)
