"""Wires the services of one process from its settings: used by the app, the CLI and jobs."""

import logging
from dataclasses import dataclass, fields

from app.access.identity import ClientIdentity
from app.access.rate_limit import LoginLimits, RateLimits
from app.access.tokens import FeedbackTokens, load_secrets
from app.alerts.service import Alerts
from app.answering.pipeline import AnswerPipeline
from app.answering.turns import Turns
from app.core.config import Settings
from app.db.database import Database
from app.db.migrations import check_schema_current, upgrade_to_head
from app.embeddings.service import Embedder, EmbeddingService, create_embedder
from app.embeddings.word_vectors import WordVectors
from app.emergencies.answers import EmergencyAnswers
from app.emergencies.detector import EmergencyDetector
from app.emergencies.service import EmergencyDesk
from app.experiments.service import Experiments
from app.feedback.service import Ratings
from app.feedback.signal_recorder import SignalRecorder
from app.knowledge.relevance import FactRelevance, KnowledgeLines
from app.knowledge.service import KnowledgeBase
from app.llm.base import AnswerProvider
from app.llm.circuit_breaker import CircuitBreaker
from app.llm.offline import OfflineAnswerer
from app.llm.openai_compatible import OpenAICompatibleProvider
from app.model_versions.service import LocalModelManager
from app.model_versions.switching import ManualSwitch
from app.monitoring.health import HealthChecker
from app.monitoring.metrics import Metrics
from app.quality.evaluation import ModelEvaluator
from app.records.learning_queue import LearningQueue
from app.verified_answers.index import VerifiedAnswerIndex
from app.verified_answers.judge import PaidJudge
from app.verified_answers.matcher import MatchThresholds
from app.verified_answers.service import VerifiedAnswers
from app.verified_answers.verifier import CacheVerifier
from app.verified_answers.verifier_trainer import VerifierTrainer
from app.voice.recognition import build_recognizer
from app.voice.recordings import RecordingArchive
from app.voice.service import SpeechInput, SpeechOutput
from app.voice.synthesis import build_synthesizer

logger = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Services:
    """Every long-lived object of one process, built once by :func:`build_services`."""

    settings: Settings
    database: Database
    embeddings: EmbeddingService
    knowledge: KnowledgeBase
    pipeline: AnswerPipeline
    #: The read side of the cache: the matcher over the served answers.
    index: VerifiedAnswerIndex
    #: Decides the matcher's proposals once a version is trained; and its training.
    verifier: CacheVerifier
    verifier_trainer: VerifierTrainer
    health: HealthChecker
    verified: VerifiedAnswers
    local_models: LocalModelManager
    rate_limits: RateLimits
    feedback_tokens: FeedbackTokens
    ratings: Ratings
    #: Operator logins: one bucket per client address, one per username.
    login_limits: LoginLimits
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
    #: Operators' alerts (deduplicated, delivered to the configured channels).
    alerts: Alerts
    #: Grades the answering model: period metrics and the golden set.
    evaluator: ModelEvaluator
    #: One turn of a conversation, whatever door it came through.
    turns: Turns
    #: Emergencies: detected first, answered with the emergency entry, an operator alerted.
    emergencies: EmergencyDesk
    #: An operator switching the local model by hand (ends open canaries).
    manual_switch: ManualSwitch

    def provided(self) -> dict[type, object]:
        """Each service by its type, for routes to ask for (``app/api/deps.py``). The paid
        provider is left out: it is a Protocol, and routes never call it."""
        by_type: dict[type, object] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "paid":
                continue
            if type(value) in by_type:
                raise TypeError(f"two services of type {type(value).__name__}")
            by_type[type(value)] = value
        return by_type

    def close(self) -> None:
        self.emergencies.close()
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


def rate_limits(
    settings: Settings, database: Database, secret: bytes
) -> tuple[RateLimits, LoginLimits]:
    """Questions and ratings (per client, per conversation); operator logins (per address,
    per username): in PostgreSQL for every replica at once, or in this process."""
    questions = (settings.rate_limit_client_per_minute, settings.rate_limit_session_per_minute)
    logins = (settings.rate_limit_login_per_minute, settings.rate_limit_login_per_minute)
    if settings.rate_limit_store == "memory":
        return RateLimits.per_minute(*questions), LoginLimits.per_minute(*logins)
    return (
        RateLimits.shared("questions", *questions, database, secret),
        LoginLimits.shared("logins", *logins, database, secret),
    )


def access_services(
    settings: Settings, database: Database
) -> tuple[RateLimits, LoginLimits, FeedbackTokens, ClientIdentity]:
    """Rate limits, feedback tokens and client identity, from the process's secrets."""
    secrets = load_secrets(settings, database)
    limits, login_limits = rate_limits(settings, database, secrets.clients)
    return (
        limits,
        login_limits,
        FeedbackTokens(secrets.tokens),
        ClientIdentity(secrets.clients, secrets.tokens),
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


def open_database(settings: Settings, *, migrate: bool) -> Database:
    """The configured database (embedded or ``DATABASE_URL``), its schema brought to head
    (``MIGRATE_ON_START``) or checked to be there."""
    database = Database.from_settings(settings)
    database.ensure_pgvector_available()
    if migrate and settings.migrate_on_start:
        upgrade_to_head(database.url)
    elif migrate:
        check_schema_current(database.engine)
    return database


def answer_pipeline(
    settings: Settings,
    database: Database,
    embeddings: EmbeddingService,
    knowledge: KnowledgeBase,
    local: LocalModelManager,
    paid: AnswerProvider | None,
    thresholds: MatchThresholds,
    emergencies: EmergencyDesk | None = None,
    verifier: CacheVerifier | None = None,
) -> tuple[AnswerPipeline, VerifiedAnswerIndex]:
    """The pipeline with its provider chain (local model, paid model, offline answers) and
    the cache's read side it consults first."""

    def providers() -> list[AnswerProvider]:
        return [p for p in (local.provider, paid) if p is not None]

    words = verifier.word_vectors if verifier else WordVectors(embeddings.embedder.embed_queries)
    lines = KnowledgeLines(
        database, knowledge, embeddings, FactRelevance(words), settings.knowledge_min_similarity
    )
    offline = OfflineAnswerer(
        knowledge_similarity=settings.knowledge_min_similarity, lines_for=lines.for_question
    )
    index = VerifiedAnswerIndex(
        embeddings, thresholds, settings.cache_max_age_days, settings.verify_min_sessions
    )
    judge = paid_judge(settings)
    pipeline = AnswerPipeline(
        settings, database, embeddings, knowledge, providers, offline, index, emergencies,
        verifier, judge,
    )  # fmt: skip
    return pipeline, index


def paid_judge(settings: Settings) -> PaidJudge | None:
    """The «да»/«нет» judge, where a paid model is configured and the judge is on."""
    if settings.cache_judge_enabled and settings.paid_llm_configured:
        return PaidJudge(settings)
    return None


def emergency_desk(settings: Settings, alerts: Alerts) -> EmergencyDesk:
    answers = EmergencyAnswers.load(settings.emergency_answers_file)
    return EmergencyDesk(EmergencyDetector(), answers, alerts)


def build_services(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    migrate: bool = True,
) -> Services:
    database = open_database(settings, migrate=migrate)
    embeddings = EmbeddingService(embedder or create_embedder(settings))
    knowledge = KnowledgeBase(embeddings.embedder)
    local = LocalModelManager(settings, database)
    local.load_configured()
    paid = paid_provider(settings)
    thresholds = match_thresholds(settings)  # the read side and the write side share them
    alerts = Alerts(database, settings)
    emergencies = emergency_desk(settings, alerts)
    verifier = CacheVerifier(WordVectors(embeddings.embedder.embed_queries))
    pipeline, index = answer_pipeline(
        settings, database, embeddings, knowledge, local, paid, thresholds, emergencies, verifier
    )
    speech_input = spoken_questions(settings)
    speech_output = SpeechOutput(settings, build_synthesizer(settings))
    recordings = RecordingArchive(database, settings)
    verified = verified_answers(settings, embeddings, thresholds)
    limits, login_limits, tokens, identity = access_services(settings, database)
    learning = LearningQueue(database)
    experiments = Experiments(database)
    metrics = Metrics(database, lambda: paid.state if paid is not None else None)
    signals = SignalRecorder(
        database, embeddings, settings, alerts=alerts, verified=verified, index=index,
        learning=learning,
    )  # fmt: skip
    turns = Turns(
        database=database, identity=identity, rate_limits=limits, speech_input=speech_input,
        experiments=experiments, local_models=local, paid=paid, pipeline=pipeline,
        metrics=metrics, embeddings=embeddings, signals=signals, recordings=recordings,
    )  # fmt: skip
    services = Services(
        settings=settings, database=database, embeddings=embeddings, knowledge=knowledge,
        pipeline=pipeline, index=index, verified=verified, local_models=local, paid=paid,
        verifier=verifier,
        verifier_trainer=VerifierTrainer(settings, database, embeddings, index, verifier),
        health=HealthChecker(
            database, embeddings, paid, local, speech=(speech_input, speech_output)
        ),
        rate_limits=limits, login_limits=login_limits, feedback_tokens=tokens, identity=identity,
        ratings=Ratings(database, verified, tokens, limits, learning, identity),
        signals=signals, learning=learning, metrics=metrics, alerts=alerts, turns=turns,
        emergencies=emergencies, speech_input=speech_input, speech_output=speech_output,
        recordings=recordings,
        experiments=experiments,
        evaluator=ModelEvaluator(
            settings=settings, database=database, embeddings=embeddings, pipeline=pipeline
        ),
        manual_switch=ManualSwitch(
            local_models=local, alerts=alerts, stop_canaries=experiments.stop_canaries
        ),
    )  # fmt: skip
    seed_knowledge_base(services)
    warm_matcher(services)
    return services


def warm_matcher(services: "Services") -> None:
    """Load the matcher (and embed the answers and facts it needs) before the first
    question: a replica that says it is ready serves verified answers at once, instead of
    spending its first question on a full load."""
    with services.database.session() as session:
        services.index.current(session)
