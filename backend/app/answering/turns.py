"""One turn of a conversation, whatever door it came through (``process``, typed or spoken,
or the OpenAI-compatible ``/v1/chat/completions``): the same identity, rate limits,
pipeline, log and after-response work."""

import uuid
from dataclasses import dataclass

from fastapi import BackgroundTasks

from app.access.identity import ClientIdentity
from app.access.rate_limit import RateLimits, conversation_key
from app.answering.pipeline import AnswerPipeline, Caller
from app.db.database import Database
from app.db.models import VoiceLog
from app.embeddings.service import EmbeddingService
from app.experiments.service import Experiments
from app.experiments.treatment import treatment_of
from app.feedback.signal_recorder import SignalRecorder
from app.llm.base import AnswerProvider
from app.model_versions.service import LocalModelManager
from app.monitoring.metrics import Metrics
from app.voice.recognition import Transcript
from app.voice.recordings import RecordingArchive
from app.voice.service import SpeechInput


@dataclass(frozen=True)
class Question:
    """What a resident sent: a typed message, or a recording to transcribe."""

    session_id: str | None
    conversation_token: str | None
    message: str | None = None
    audio: bytes | None = None
    filename: str = ""
    speak: bool = False


@dataclass(frozen=True, kw_only=True)
class Turns:
    """Everything one turn touches, built once by the container."""

    database: Database
    identity: ClientIdentity
    rate_limits: RateLimits
    speech_input: SpeechInput
    experiments: Experiments
    local_models: LocalModelManager
    paid: AnswerProvider | None
    pipeline: AnswerPipeline
    metrics: Metrics
    embeddings: EmbeddingService
    signals: SignalRecorder
    recordings: RecordingArchive

    def take(
        self,
        client: str | None,
        background: BackgroundTasks,
        question: Question,
        header_token: str | None,
    ) -> tuple[VoiceLog, Transcript | None]:
        """Answer ``question`` and log it; the question's vector, and what it says about the
        answer before it (implicit signals), are stored after the response is sent."""
        identity = self.identity
        session_id = question.session_id or str(uuid.uuid4())
        caller = Caller(
            client_key=identity.client_key(client),
            holds_conversation_token=identity.holds_conversation(
                question.conversation_token or header_token, session_id
            ),
        )
        self.rate_limits.check(
            client,
            conversation_key(
                question.session_id, client, holds_token=caller.holds_conversation_token
            ),
        )
        heard = None
        if question.audio is not None:
            heard = self.speech_input.hear(question.audio, question.filename)
        transcript = heard.transcript if heard else None
        treatment = treatment_of(
            self.experiments.arms_for(session_id), self.local_models.provider_for, self.paid
        )
        result = self.pipeline.process(
            transcript.text if transcript else question.message,
            session_id,
            caller,
            asr_confidence=transcript.confidence if transcript else None,
            treatment=treatment,
        )
        log = result.log
        self.metrics.answered(log)
        if treatment is not None:
            background.add_task(self.experiments.record, log.id, list(treatment.arms))
        background.add_task(
            self.embeddings.store_after_response, self.database, log.id, result.question_vector
        )
        background.add_task(self.signals.record_after_response, log.id, result.question_vector)
        if heard is not None:
            background.add_task(self.recordings.keep, log.id, heard.recording.samples)
        return log, transcript
