"""Wires the services of one process from its settings: used by the app, the CLI and jobs."""

import logging
from dataclasses import dataclass

from app.access.identity import ClientIdentity
from app.access.rate_limit import RateLimits
from app.answering.health import HealthChecker
from app.answering.pipeline import AnswerPipeline
from app.answering.providers.base import AnswerProvider
from app.answering.providers.circuit_breaker import CircuitBreaker
from app.answering.providers.offline import OfflineAnswerer
from app.answering.providers.openai_compatible import OpenAICompatibleProvider
from app.core.config import Settings
from app.db.database import Database
from app.db.migrations import check_schema_current, upgrade_to_head
from app.embeddings.service import Embedder, EmbeddingService, create_embedder
from app.experiments.service import Experiments
from app.feedback.service import Ratings
from app.feedback.signal_recorder import SignalRecorder
from app.feedback.tokens import FeedbackTokens, load_secrets
from app.knowledge.service import KnowledgeBase
from app.model_versions.service import LocalModelManager
from app.monitoring.metrics import Metrics
from app.verified_answers.index import VerifiedAnswerIndex
from app.verified_answers.learning_queue import LearningQueue
from app.verified_answers.matcher import MatchThresholds
from app.verified_answers.service import VerifiedAnswers
from app.voice.recognition import build_recognizer
from app.voice.recordings import RecordingArchive
from app.voice.service import SpeechInput, SpeechOutput
from app.voice.synthesis import build_synthesizer

logger = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    database: Database
    embeddings: EmbeddingService
    knowledge: KnowledgeBase
    pipeline: AnswerPipeline
    health: HealthChecker
    verified: VerifiedAnswers
    local_models: LocalModelManager
    rate_limits: RateLimits
    feedback_tokens: FeedbackTokens
    ratings: Ratings
    #: Operator logins: one bucket per client address, one per username.
    login_limits: RateLimits
    identity: ClientIdentity
    #: What residents' next messages say about answers (implicit signals).
    signals: SignalRecorder
    #: Spoken questions to text (``ASR_ENGINE``).
    speech_input: SpeechInput
    #: Answers read aloud (``TTS_ENGINE``).
    speech_output: SpeechOutput
    #: Recordings of spoken questions, with ``STORE_AUDIO`` (personal data, kept for days).
    recordings: RecordingArchive
    #: A/B experiments and canaries: which arms a conversation is in.
    experiments: Experiments
    #: The paid model behind its circuit breaker (None without a key): experiment arms
    #: build their provider chains with it.
    paid: AnswerProvider | None
    #: What ``GET /metrics`` reports (this instance's own registry).
    metrics: Metrics
    #: Ratings, corrections and signals committed in batches by one thread.
    learning: LearningQueue

    def close(self) -> None:
        self.learning.close()
        self.database.dispose()


def match_thresholds(settings: Settings) -> MatchThresholds:
    return MatchThresholds(
        same_question_similarity=settings.cache_same_question_similarity,
        min_margin=settings.cache_min_margin,
        min_similarity=settings.cache_min_similarity,
        min_answer_relevance=settings.cache_min_answer_relevance,
    )


def seed_knowledge_base(services: "Services") -> None:
    """A fresh database gets the shipped starter facts, so offline answers work at once."""
    with services.database.transaction() as session:
        if (
            services.knowledge.count(session) == 0
            and services.settings.knowledge_base_file.exists()
        ):
            result = services.knowledge.import_file(session, services.settings.knowledge_base_file)
            logger.info("knowledge base seeded with %d facts", result.added)
        else:
            services.knowledge.reembed_stale(session)


def paid_provider(settings: Settings) -> AnswerProvider | None:
    """The paid LLM behind its circuit breaker, when a key is configured."""
    if not settings.paid_llm_configured:
        return None
    return CircuitBreaker(
        OpenAICompatibleProvider(settings),
        failures=settings.llm_circuit_failures,
        open_seconds=settings.llm_circuit_open_seconds,
    )


def spoken_questions(settings: Settings) -> SpeechInput:
    """Speech recognition as configured; what it lacks here is said once, at start-up."""
    speech_input = SpeechInput(settings, build_recognizer(settings))
    if speech_input.missing():
        logger.warning("spoken questions need: %s", speech_input.missing())
    return speech_input


def voice_services(
    settings: Settings, database: Database
) -> tuple[SpeechInput, SpeechOutput, RecordingArchive]:
    """Speech in, speech out, and the archive of what residents said (``STORE_AUDIO``)."""
    return (
        spoken_questions(settings),
        SpeechOutput(settings, build_synthesizer(settings)),
        RecordingArchive(database, settings),
    )


def rate_limits(
    settings: Settings, database: Database, secret: bytes
) -> tuple[RateLimits, RateLimits]:
    """Questions and ratings (per client, per conversation); operator logins (per address,
    per username): in PostgreSQL for every replica at once, or in this process."""
    questions = (settings.rate_limit_client_per_minute, settings.rate_limit_session_per_minute)
    logins = (settings.rate_limit_login_per_minute, settings.rate_limit_login_per_minute)
    if settings.rate_limit_store == "memory":
        return RateLimits.per_minute(*questions), RateLimits.per_minute(*logins)
    return (
        RateLimits.shared("questions", *questions, database, secret),
        RateLimits.shared("logins", *logins, database, secret),
    )


def verified_answers(
    settings: Settings, embeddings: EmbeddingService, thresholds: MatchThresholds
) -> VerifiedAnswers:
    """The write side of the cache, with the trust rules' settings."""
    return VerifiedAnswers(
        embeddings,
        thresholds,
        settings.verify_min_sessions,
        settings.implicit_evidence_weight,
        settings.asr_min_confidence,
    )


def build_services(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    migrate: bool = True,
) -> Services:
    database = Database.from_settings(settings)
    database.ensure_pgvector_available()
    if migrate and settings.migrate_on_start:
        upgrade_to_head(database.url)
    elif migrate:
        check_schema_current(database.engine)
    embeddings = EmbeddingService(embedder or create_embedder(settings))
    knowledge = KnowledgeBase(embeddings.embedder)
    local = LocalModelManager(settings, database)
    local.load_configured()
    paid = paid_provider(settings)

    def providers() -> list[AnswerProvider]:
        return [p for p in (local.provider, paid) if p is not None]

    offline = OfflineAnswerer(knowledge_similarity=settings.knowledge_min_similarity)
    thresholds = match_thresholds(settings)
    index = VerifiedAnswerIndex(
        embeddings, thresholds, settings.cache_max_age_days, settings.verify_min_sessions
    )
    pipeline = AnswerPipeline(settings, database, embeddings, knowledge, providers, offline, index)
    voice = voice_services(settings, database)
    health = HealthChecker(database, embeddings, paid, local, speech=voice[:2])
    verified = verified_answers(settings, embeddings, thresholds)
    secrets = load_secrets(settings, database)
    limits, login_limits = rate_limits(settings, database, secrets.clients)
    tokens = FeedbackTokens(secrets.tokens)
    learning = LearningQueue(database)
    identity = ClientIdentity(secrets.clients, secrets.tokens)
    services = Services(
        settings,
        database,
        embeddings,
        knowledge,
        pipeline,
        health,
        verified,
        local,
        limits,
        tokens,
        Ratings(database, verified, tokens, limits, learning, identity),
        login_limits,
        identity,
        SignalRecorder(database, embeddings, settings, verified, index, learning),
        *voice,
        Experiments(database),
        paid,
        Metrics(database, lambda: paid.state if paid is not None else None),
        learning,
    )
    seed_knowledge_base(services)
    warm_matcher(services)
    return services


def warm_matcher(services: "Services") -> None:
    """Load the matcher (and embed the answers and facts it needs) before the first
    question: a replica that says it is ready serves verified answers at once, instead of
    spending its first question on a full load."""
    with services.database.session() as session:
        services.pipeline.verified.current(session)
