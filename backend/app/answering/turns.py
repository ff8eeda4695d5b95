"""One turn of a conversation, whatever door it came through (``process``, typed or spoken,
or the OpenAI-compatible ``/v1/chat/completions``): the same identity, rate limits,
pipeline, log and after-response work."""

import uuid
from dataclasses import dataclass

from fastapi import BackgroundTasks

from app.access.rate_limit import conversation_key
from app.answering.pipeline import Caller
from app.db.models import VoiceLog
from app.experiments.treatment import treatment_of
from app.voice.recognition import Transcript


@dataclass(frozen=True)
class Question:
    """What a resident sent: a typed message, or a recording to transcribe."""

    session_id: str | None
    conversation_token: str | None
    message: str | None = None
    audio: bytes | None = None
    filename: str = ""
    speak: bool = False


def take_turn(
    services, client: str, background: BackgroundTasks, question: Question, header_token: str | None
) -> tuple[VoiceLog, Transcript | None]:
    """Answer ``question`` and log it; the question's vector, and what it says about the
    answer before it (implicit signals), are stored after the response is sent."""
    identity = services.identity
    session_id = question.session_id or str(uuid.uuid4())
    caller = Caller(
        client_key=identity.client_key(client),
        holds_conversation_token=identity.holds_conversation(
            question.conversation_token or header_token, session_id
        ),
    )
    services.rate_limits.check(
        client,
        conversation_key(question.session_id, client, holds_token=caller.holds_conversation_token),
    )
    heard = None
    if question.audio is not None:
        heard = services.speech_input.hear(question.audio, question.filename)
    transcript = heard.transcript if heard else None
    treatment = treatment_of(
        services.experiments.arms_for(session_id),
        services.local_models.provider_for,
        services.paid,
    )
    result = services.pipeline.process(
        transcript.text if transcript else question.message,
        session_id,
        caller,
        asr_confidence=transcript.confidence if transcript else None,
        treatment=treatment,
    )
    log = result.log
    services.metrics.answered(log)
    if treatment is not None:
        background.add_task(services.experiments.record, log.id, list(treatment.arms))
    background.add_task(
        services.embeddings.store_after_response, services.database, log.id, result.question_vector
    )
    background.add_task(services.signals.record_after_response, log.id, result.question_vector)
    if heard is not None:
        background.add_task(services.recordings.keep, log.id, heard.recording.samples)
    return log, transcript
