"""Tables of the self-learning module.

Every answer lands in ``voice_logs`` before it is returned; ratings, corrections and
vectors hang off that row so nothing about a dialog is ever stored twice.
"""

import uuid
from datetime import datetime

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Width of stored vectors. Both the bundled multilingual-e5-small and the seed's
#: paraphrase-multilingual-MiniLM-L12-v2 produce 384 dimensions.
EMBEDDING_DIM = 384

ANSWER_SOURCES = ("cache", "local", "llm", "knowledge_base", "fallback")


class Base(DeclarativeBase):
    pass


class VoiceLog(Base):
    """One question and the answer given to it, with how it was produced and judged."""

    __tablename__ = "voice_logs"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="ck_voice_logs_rating_range"),
        CheckConstraint(
            "answer_source IN ('cache', 'local', 'llm', 'knowledge_base', 'fallback')",
            name="ck_voice_logs_answer_source",
        ),
        Index("ix_voice_logs_session_created", "session_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    session_id: Mapped[str] = mapped_column(String(128))
    user_message: Mapped[str] = mapped_column(Text)
    ai_response: Mapped[str] = mapped_column(Text)
    model_used: Mapped[str] = mapped_column(String(200))
    answer_source: Mapped[str] = mapped_column(String(32))
    source_log_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("voice_logs.id", ondelete="SET NULL")
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
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class VoiceFeedback(Base):
    """Every rating ever given, so a re-rating replaces the current one without losing history."""

    __tablename__ = "voice_feedback"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="ck_voice_feedback_rating"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    log_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("voice_logs.id", ondelete="CASCADE"), index=True
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
            postgresql_with={"m": 16, "ef_construction": 64},
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    log_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("voice_logs.id", ondelete="CASCADE")
    )
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
