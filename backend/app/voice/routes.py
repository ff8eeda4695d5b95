"""Answers read aloud (``GET /api/voice/logs/{log_id}/speech``) and, for operators, what
residents said (``GET /api/voice/logs/{log_id}/recording``, with ``STORE_AUDIO``)."""

from datetime import UTC, datetime

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from app.access.deps import (
    BearerDep,
    ClientAddressDep,
    FeedbackTokensDep,
    LoggedInOperatorDep,
    RateLimitsDep,
    require_operator,
)
from app.api.deps import DatabaseDep, RowId, SettingsDep
from app.api.schemas import error_responses
from app.core.errors import NotFoundError, SpeechTokenMissingError, SpeechTokenWrongError
from app.records.dialog_log import get_log
from app.voice.deps import RecordingsDep, SpeechOutputDep

router = APIRouter(prefix="/api/voice", tags=["voice"])


@router.get(
    "/logs/{log_id}/speech",
    responses={
        200: {"content": {"audio/wav": {}}, "description": "Ответ голосом (WAV)"},
        **error_responses(401, 403, 404, 422, 429, 503),
    },
    response_class=Response,
    summary="Ответ голосом",
)
def answer_speech(
    log_id: RowId,
    speech: SpeechOutputDep,
    settings: SettingsDep,
    database: DatabaseDep,
    limits: RateLimitsDep,
    tokens: FeedbackTokensDep,
    credentials: BearerDep,
    client: ClientAddressDep,
    feedback_token: str | None = Query(default=None, max_length=256),
    x_feedback_token: str | None = Header(default=None, max_length=256),
) -> Response:
    """The answer of ``log_id`` as speech, for the conversation that got it (its
    ``feedback_token``, as for ratings) or an operator. Synthesised once per text.
    Residents pay for each request from their client's rate limit, as for questions (a
    wrong token too: guessing is flooding); operators do not."""
    with database.session() as session:
        log = get_log(session, log_id)
        answer, session_id = log.ai_response, log.session_id
    token = feedback_token or x_feedback_token
    if credentials is not None and not token:
        require_operator(settings, database, credentials)
    else:
        limits.check_client(client)
        if not tokens.valid(token, log_id, session_id):
            if credentials is None:
                raise SpeechTokenWrongError() if token else SpeechTokenMissingError()
            require_operator(settings, database, credentials)
    audio = speech.speak(answer)
    private = {"Cache-Control": "private, max-age=86400"}
    return Response(audio, media_type="audio/wav", headers=private)


@router.get(
    "/logs/{log_id}/recording",
    responses={
        200: {"content": {"audio/wav": {}}, "description": "Запись вопроса (WAV, 16 кГц)"},
        **error_responses(401, 403, 404, 422),
    },
    response_class=Response,
    summary="Запись вопроса жильца",
)
def question_recording(
    log_id: RowId, database: DatabaseDep, recordings: RecordingsDep, _operator: LoggedInOperatorDep
) -> Response:
    """What the resident said, as the recogniser heard it: operators only (personal data),
    kept only with ``STORE_AUDIO=true`` and for ``AUDIO_RETENTION_DAYS``."""
    with database.session() as session:
        get_log(session, log_id)
        audio = recordings.wav(session, log_id, datetime.now(UTC))
    if audio is None:
        raise NotFoundError(
            "Запись этого вопроса не хранится: он задан текстом, запись не сохранялась "
            "(STORE_AUDIO) или срок её хранения (AUDIO_RETENTION_DAYS) истёк"
        )
    return Response(audio, media_type="audio/wav", headers={"Cache-Control": "no-store"})
