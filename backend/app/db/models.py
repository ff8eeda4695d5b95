"""Tables of the self-learning module.

Every answer lands in ``voice_logs`` before it is returned; ratings, corrections and
vectors hang off that row so nothing about a dialog is ever stored twice.
"""

import uuid
from datetime import datetime
from enum import StrEnum

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    exists,
    func,
    or_,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: The largest value of a BIGINT row key: ids past it name no row.
MAX_ROW_ID = 2**63 - 1

#: Width of stored vectors. Both the bundled multilingual-e5-small and the seed's
#: paraphrase-multilingual-MiniLM-L12-v2 produce 384 dimensions.
EMBEDDING_DIM = 384


class AnswerSource(StrEnum):
    """Where an answer came from, cheapest first."""

    CACHE = "cache"
    LOCAL = "local"
    LLM = "llm"
    KNOWLEDGE_BASE = "knowledge_base"
    FALLBACK = "fallback"


class VerifiedKind(StrEnum):
    RATED = "rated"
    CORRECTED = "corrected"


class ModelStatus(StrEnum):
    CANDIDATE = "candidate"
    ACTIVE = "active"
    RETIRED = "retired"
    REJECTED = "rejected"


class ExperimentKind(StrEnum):
    """What the arms of an experiment differ in: the local model version answering, or the
    answering configuration (cache thresholds, context budget …)."""

    MODEL = "model"
    CONFIG = "config"


class ExperimentStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


#: An experiment in one of these holds its kind's slot: one at a time per kind.
OPEN_EXPERIMENT_STATUSES = (ExperimentStatus.RUNNING, ExperimentStatus.PAUSED)


class RetrainingStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PROMOTED = "promoted"
    #: Passed the golden-set gate; answering a share of conversations until the canary
    #: experiment promotes or rolls it back.
    CANARY = "canary"
    REJECTED = "rejected"
    FAILED = "failed"


class SignalKind(StrEnum):
    """What a resident's next message said about the answer before it."""

    RE_ASK = "re_ask"
    ESCALATION = "escalation"
    THANKS = "thanks"
    #: No next message came after an answer that did not answer (the offline fallback).
    ABANDONED = "abandoned"


class EvidenceBasis(StrEnum):
    """What a piece of verified-answer evidence rests on: an explicit judgement (weighs 1)
    or what the dialog itself said (weighs ``IMPLICIT_EVIDENCE_WEIGHT``)."""

    RATING = "rating"
    CORRECTION = "correction"
    THANKS = "thanks"
    RE_ASK = "re_ask"
    ESCALATION = "escalation"
    #: The earlier phrasing of a question whose re-ask was finally answered well.
    RE_ASK_CHAIN = "re_ask_chain"


class GoldenOrigin(StrEnum):
    CORRECTION = "correction"
    RATING = "rating"


#: Runs that are still to finish; a second request returns the open one.
OPEN_RETRAINING_STATUSES = (RetrainingStatus.QUEUED, RetrainingStatus.RUNNING)
ENDED_RETRAINING_STATUSES = (
    RetrainingStatus.PROMOTED,
    RetrainingStatus.CANARY,
    RetrainingStatus.REJECTED,
    RetrainingStatus.FAILED,
)


#: Ratings at or above this are satisfied residents (the seed's "4–5★"), at or below
#: ``NEGATIVE_RATING`` dissatisfied ones ("1–2★").
POSITIVE_RATING = 4
NEGATIVE_RATING = 2


def one_of(column: str, values: type[StrEnum], name: str) -> CheckConstraint:
    """A CHECK constraint that keeps a status column within its enum (one list of values)."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


class Base(DeclarativeBase):
    pass


class VoiceLog(Base):
    """One question and the answer given to it, with how it was produced and judged."""

    __tablename__ = "voice_logs"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="ck_voice_logs_rating_range"),
        one_of("answer_source", AnswerSource, "ck_voice_logs_answer_source"),
        Index("ix_voice_logs_session_created", "session_id", "created_at"),
    )

    #: An integer, as in the seed (``"log_id": 42``); numbered by the database.
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128))
    user_message: Mapped[str] = mapped_column(Text)
    ai_response: Mapped[str] = mapped_column(Text)
    model_used: Mapped[str] = mapped_column(String(200))
    answer_source: Mapped[str] = mapped_column(String(32))
    source_log_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("voice_logs.id", ondelete="SET NULL")
    )
    response_time: Mapped[float] = mapped_column(Float)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    feedback_text: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    corrected_response: Mapped[str | None] = mapped_column(Text)
    corrected_by: Mapped[str | None] = mapped_column(String(200))
    corrected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The verified answer this log was served from (answer_source = cache).
    verified_answer_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey(
            "verified_answers.id",
            ondelete="SET NULL",
            name="fk_voice_logs_verified_answer",
            use_alter=True,
        ),
    )
    #: Keyed hash of the client's network (see ``app/access/identity.py``): distinct
    #: clients, not session ids, are what votes, metrics and exports count.
    client_key: Mapped[str | None] = mapped_column(String(32), index=True)
    #: Asked with the conversation's server-issued token (or opened the conversation).
    conversation_bound: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )
    #: Figures and contact details a paid answer stated that neither its prompt nor the
    #: knowledge base did (``app/answering/grounding_guard.py``); None when there were none.
    ungrounded_facts: Mapped[list[str] | None] = mapped_column(JSONB)
    #: A spoken question: the recogniser's confidence in its transcript (``user_message``);
    #: None for a typed one. Below ``ASR_MIN_CONFIDENCE`` the dialog never teaches.
    asr_confidence: Mapped[float | None] = mapped_column(Float)
    #: Set by an operator correction: the corrected dialog is training data.
    training_example: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


def client_of_log():
    """The distinct client a log counts as (SQL): votes, exports, the golden set and the
    retraining figures count clients, never session ids. Logs recorded before client keys
    existed (migration 0009) count by their conversation, as they did then."""
    return func.coalesce(VoiceLog.client_key, "session:" + VoiceLog.session_id)


class VoiceFeedback(Base):
    """Every rating ever given, so a re-rating replaces the current one without losing history."""

    __tablename__ = "voice_feedback"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="ck_voice_feedback_rating"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    log_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("voice_logs.id", ondelete="CASCADE"), index=True
    )
    rating: Mapped[int] = mapped_column(SmallInteger)
    feedback_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class VoiceEmbedding(Base):
    """The vector of a log's question, one row per log and embedding model.

    Keeping the model name on each row lets the model change without ever comparing
    vectors from two different spaces.
    """

    __tablename__ = "voice_embeddings"
    __table_args__ = (
        UniqueConstraint("log_id", "embedding_model", name="uq_voice_embeddings_log_model"),
        Index(
            "ix_voice_embeddings_hnsw_cosine",
            "embedding",
            postgresql_using="hnsw",
            # Denser than pgvector's default: recall@5 0.988 at 1 M vectors (migration 0007).
            postgresql_with={"m": 24, "ef_construction": 128},
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    log_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("voice_logs.id", ondelete="CASCADE"))
    embedding = mapped_column(Vector(EMBEDDING_DIM), nullable=False)
    embedding_model: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class KnowledgeEntry(Base):
    """One fact of the company knowledge base, as an operator wrote it."""

    __tablename__ = "knowledge_entries"
    __table_args__ = (
        UniqueConstraint("source", "content_hash", name="uq_knowledge_entries_source_hash"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    embedding = mapped_column(Vector(EMBEDDING_DIM))
    embedding_model: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ModelMetrics(Base):
    """Quality of one model version over one period, written by each evaluation run."""

    __tablename__ = "model_metrics"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    model_version: Mapped[str] = mapped_column(String(200), index=True)
    period_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    avg_rating: Mapped[float | None] = mapped_column(Float)
    satisfaction: Mapped[float | None] = mapped_column(Float)
    negative_share: Mapped[float | None] = mapped_column(Float)
    rating_coverage: Mapped[float | None] = mapped_column(Float)
    avg_response_time: Mapped[float | None] = mapped_column(Float)
    p95_response_time: Mapped[float | None] = mapped_column(Float)
    accuracy_score: Mapped[float | None] = mapped_column(Float)
    search_accuracy: Mapped[float | None] = mapped_column(Float)
    n_interactions: Mapped[int] = mapped_column(Integer, default=0)
    n_rated: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TrainingDataset(Base):
    """A dialog export: where it is, what went into it and whether it validated."""

    __tablename__ = "training_datasets"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    dataset_name: Mapped[str] = mapped_column(String(300))
    path: Mapped[str] = mapped_column(Text)
    total_samples: Mapped[int] = mapped_column(Integer, default=0)
    filters: Mapped[dict | None] = mapped_column(JSONB)
    stats: Mapped[dict | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(32), default="created")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class VerifiedAnswer(Base):
    """An answer people approved: rated 5 or written by an operator. It is served again,
    with no model call, to questions the matcher is sure mean the same thing."""

    __tablename__ = "verified_answers"
    __table_args__ = (
        one_of("kind", VerifiedKind, "ck_verified_answers_kind"),
        Index("ix_verified_answers_active", "withdrawn_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    answer_text: Mapped[str] = mapped_column(Text)
    #: Whitespace- and case-normalised text: one verified answer per distinct text.
    text_key: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: The dialog whose answer (or correction) this is; cached replies point to it.
    source_log_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("voice_logs.id", ondelete="SET NULL")
    )
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: Latest approval; an answer approved before the knowledge base changed is stale.
    confirmed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    #: When the answer first met the serving rule: the operators' queue of new answers.
    served_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: An operator approved this residents' answer (it is then trusted like their own).
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The text's vectors as a question and as an e5 passage, by ``vectors_model``: stored
    #: by the process that learnt the answer, read by every other replica's matcher.
    text_vector = mapped_column(Vector(EMBEDDING_DIM), nullable=True)
    passage_vector = mapped_column(Vector(EMBEDDING_DIM), nullable=True)
    vectors_model: Mapped[str | None] = mapped_column(String(200))


class AnswerEvidence(Base):
    """What one judged dialog says about one verified answer: this question is answered by
    it (``agrees``) or is not (a low rating or a correction of it)."""

    __tablename__ = "answer_evidence"
    __table_args__ = (
        UniqueConstraint("log_id", "verified_answer_id", name="uq_answer_evidence_log_answer"),
        one_of("basis", EvidenceBasis, "ck_answer_evidence_basis"),
        CheckConstraint("weight > 0 AND weight <= 1", name="ck_answer_evidence_weight"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    verified_answer_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("verified_answers.id", ondelete="CASCADE"), index=True
    )
    log_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("voice_logs.id", ondelete="CASCADE"), index=True
    )
    agrees: Mapped[bool] = mapped_column(Boolean)
    basis: Mapped[str] = mapped_column(String(32), server_default=EvidenceBasis.RATING)
    #: 1 for a rating or a correction; below 1 for what the dialog itself said.
    weight: Mapped[float] = mapped_column(Float, server_default="1.0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TokenSecret(Base):
    """The secret that signs feedback and conversation tokens. Never in a backup
    (``app/db/backup.py``): a restored database makes a new one."""

    __tablename__ = "token_secrets"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AppState(Base):
    """Small shared counters and timestamps that every process of the service reads."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class VerifiedAnswerChange(Base):
    """A verified answer whose evidence or standing changed at ``revision`` (written by
    triggers, migration 0018): what each replica's matcher updates instead of refitting.
    Kept a day (the worker's schedule drops older rows)."""

    __tablename__ = "verified_answer_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    revision: Mapped[int] = mapped_column(BigInteger, index=True)
    verified_answer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class ModelVersion(Base):
    """A fine-tuned local model: what it was trained from, where it lives, how it scored,
    and whether it is the one answering (active), a candidate, rejected or retired."""

    __tablename__ = "model_versions"
    __table_args__ = (one_of("status", ModelStatus, "ck_model_versions_status"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    base_model: Mapped[str] = mapped_column(Text)
    dataset_path: Mapped[str | None] = mapped_column(Text)
    training_dataset_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("training_datasets.id", ondelete="SET NULL")
    )
    path: Mapped[str] = mapped_column(Text)
    #: LoRA adapter directory (the base model is needed to load it) or a full model.
    adapter: Mapped[bool] = mapped_column(Boolean, default=False)
    metrics: Mapped[dict | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default=ModelStatus.CANDIDATE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Experiment(Base):
    """Arms compared on live questions (``app/experiments/``). A conversation is assigned
    to an arm by a stable hash of its session id; the decision is taken by the worker's
    schedule and kept in ``decision``; a canary is a candidate model promoted or rolled
    back by it."""

    __tablename__ = "experiments"
    __table_args__ = (
        one_of("kind", ExperimentKind, "ck_experiments_kind"),
        one_of("status", ExperimentStatus, "ck_experiments_status"),
        Index(
            "uq_experiments_one_open_per_kind",
            "kind",
            unique=True,
            postgresql_where=text("status IN ('running', 'paused')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ExperimentStatus.RUNNING)
    #: The candidate model this experiment is the canary of (promoted or rolled back by it).
    canary_version_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    created_by: Mapped[str | None] = mapped_column(String(200))
    #: The latest decision (outcome, arm, reason, per-arm figures).
    decision: Mapped[dict | None] = mapped_column(JSONB)
    #: Set when it ended: the arm that won, none for "no difference" or a manual stop.
    winner: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    arms: Mapped[list["ExperimentArm"]] = relationship(
        back_populates="experiment", order_by="ExperimentArm.id", cascade="all, delete-orphan"
    )


class ExperimentArm(Base):
    __tablename__ = "experiment_arms"
    __table_args__ = (
        UniqueConstraint("experiment_id", "name", name="uq_experiment_arms_name"),
        CheckConstraint("share >= 0 AND share <= 1", name="ck_experiment_arms_share"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    #: Share of conversations (its slice of the hash; kept when the arm is stopped).
    share: Mapped[float] = mapped_column(Float)
    is_control: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Model experiments: the version answering in this arm; None is "no local model".
    model_version_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    #: Config experiments: the settings this arm answers with (``EXPERIMENT_SETTINGS``).
    settings: Mapped[dict | None] = mapped_column(JSONB)
    #: Why an arm no longer gets traffic: its conversations are answered in the control.
    stopped_reason: Mapped[str | None] = mapped_column(Text)

    experiment: Mapped[Experiment] = relationship(back_populates="arms")


class ExperimentAnswer(Base):
    """An answer given in an experiment arm: a conversation can be in one arm of a model
    experiment and one of a configuration experiment at once."""

    __tablename__ = "experiment_answers"

    log_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("voice_logs.id", ondelete="CASCADE"), primary_key=True
    )
    arm_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("experiment_arms.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    )


class ExperimentLook(Base):
    """One look of the decision at an experiment: the per-arm figures and the statistic,
    over time (the dashboard's chart)."""

    __tablename__ = "experiment_looks"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(32))
    arms: Mapped[list] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GoldenSetItem(Base):
    """One held-out question with its approved answer (app/quality/golden_set.py)."""

    __tablename__ = "golden_set_items"
    __table_args__ = (one_of("origin", GoldenOrigin, "ck_golden_set_items_origin"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(Text)
    #: The question lower-cased without punctuation: export skips logs asking it.
    question_key: Mapped[str] = mapped_column(Text, index=True)
    approved_answer: Mapped[str] = mapped_column(Text)
    source_log_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("voice_logs.id", ondelete="SET NULL"), unique=True
    )
    origin: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Alert(Base):
    """Something an operator should know about, kept whether or not a channel delivered it."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_kind_created", "kind", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSONB)
    #: Channel name -> "delivered" | "failed: …" after the last attempt.
    deliveries: Mapped[dict | None] = mapped_column(JSONB)
    #: Repeats of the same kind and title folded into this alert within the dedup window.
    repeats: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class RetrainingRun(Base):
    """One automatic retraining: export → fine-tune → golden-set gate → promote or reject."""

    __tablename__ = "retraining_runs"
    __table_args__ = (one_of("status", RetrainingStatus, "ck_retraining_runs_status"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(16), default=RetrainingStatus.QUEUED)
    reasons: Mapped[list | None] = mapped_column(JSONB)
    #: The step it is at or ended in: export, fine_tune, evaluate, gate, done.
    step: Mapped[str | None] = mapped_column(String(32))
    log: Mapped[list | None] = mapped_column(JSONB)
    candidate_version_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    result: Mapped[dict | None] = mapped_column(JSONB)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RateLimitBucket(Base):
    """A token bucket shared by every replica (``RATE_LIMIT_STORE=postgres``); the key is a
    keyed hash of the limiter's name and the client or conversation, never an address."""

    __tablename__ = "rate_limit_buckets"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class VoiceRecording(Base):
    """What a resident said, kept only with ``STORE_AUDIO=true`` and only for
    ``AUDIO_RETENTION_DAYS`` (a voice is personal data): the 16 kHz mono WAV the recogniser
    heard, so an operator can check a transcript against it. Gone with its log."""

    __tablename__ = "voice_recordings"

    log_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("voice_logs.id", ondelete="CASCADE"), primary_key=True
    )
    wav: Mapped[bytes] = mapped_column(LargeBinary)
    seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class AnswerSignal(Base):
    """What a resident's next message said about an answer, without a rating: a re-ask in
    other words, a request for a person, thanks (``app/feedback/implicit_signals.py``).
    One per next message; the evidence says why it was read that way."""

    __tablename__ = "answer_signals"
    __table_args__ = (
        one_of("kind", SignalKind, "ck_answer_signals_kind"),
        Index(
            "uq_answer_signals_abandoned",
            "log_id",
            unique=True,
            postgresql_where=text("kind = 'abandoned'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    #: The answer the signal is about.
    log_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("voice_logs.id", ondelete="CASCADE"), index=True
    )
    #: The message that carried it (none for an abandoned conversation).
    next_log_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("voice_logs.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[dict | None] = mapped_column(JSONB)
    #: Who sent the next message (``voice_logs.client_key``): signals count per client.
    client_key: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


#: What a next message (or the silence after an answer no model could give) says when the
#: answer did not help: the review queue and implicit satisfaction read the same kinds.
UNHELPED_SIGNALS = (SignalKind.ESCALATION, SignalKind.RE_ASK, SignalKind.ABANDONED)


def signalled(*kinds: SignalKind):
    """The log's answer got a signal of one of ``kinds`` (SQL, correlated to the log)."""
    return exists().where(AnswerSignal.log_id == VoiceLog.id, AnswerSignal.kind.in_(kinds))


class OperatorAccount(Base):
    """A person who may use the operator console; the password is kept as an argon2 hash."""

    __tablename__ = "operator_accounts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OperatorSession(Base):
    """A login: only the SHA-256 of its bearer token is stored, so a leaked table logs
    nobody in."""

    __tablename__ = "operator_sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("operator_accounts.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def approved_dialog(min_rating: int):
    """The one rule for a dialog people approved: rated at least ``min_rating``, or
    corrected by an operator (a correction is approved whatever the original's rating)."""
    return or_(VoiceLog.rating >= min_rating, VoiceLog.corrected_response.is_not(None))


def misheard(asr_confidence: float | None, min_confidence: float) -> bool:
    """A spoken question whose transcript the recogniser was not sure of: answered, never
    learnt from (``ASR_MIN_CONFIDENCE``). Typed questions have no confidence."""
    return asr_confidence is not None and asr_confidence < min_confidence


def heard_surely(min_confidence: float):
    """:func:`misheard`'s complement as SQL: the dialogs that may teach (training pairs,
    golden items)."""
    return or_(VoiceLog.asr_confidence.is_(None), VoiceLog.asr_confidence >= min_confidence)


class VerifierVersion(Base):
    """One trained verifier (``app/verified_answers/verifier.py``): the logistic model over
    pair features, the serving thresholds it was calibrated to (per answer where its
    evidence allows), and how it did on its held-out folds. At most one is ``active``."""

    __tablename__ = "verifier_versions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('active', 'retired', 'rejected')", name="ck_verifier_versions_status"
        ),
        Index(
            "uq_verifier_versions_active",
            "status",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    status: Mapped[str] = mapped_column(String(16))
    #: Why it was not switched in, or who switched it (rollback, operator).
    reason: Mapped[str | None] = mapped_column(Text)
    #: ``VerifierModel.as_dict``: weights, features, thresholds.
    params: Mapped[dict] = mapped_column(JSONB)
    training_pairs: Mapped[int] = mapped_column(Integer)
    #: Held-out figures: precision, recall, wrong-serve bound at the chosen threshold.
    held_out: Mapped[dict] = mapped_column(JSONB)
    max_error_rate: Mapped[float] = mapped_column(Float)


class JudgeVerdict(Base):
    """The paid judge's «да»/«нет» on (question, verified answer): the label that decided
    a proposal in the verifier's uncertain band, and a training pair for the next one."""

    __tablename__ = "judge_verdicts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    log_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("voice_logs.id", ondelete="CASCADE"), index=True
    )
    verified_answer_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("verified_answers.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(Text)
    agrees: Mapped[bool] = mapped_column(Boolean)
    #: The verifier's probability when it asked.
    probability: Mapped[float] = mapped_column(Float)
    verifier_version_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("verifier_versions.id", ondelete="SET NULL")
    )
