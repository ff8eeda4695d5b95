"""The seed's module paths that code written against it imports (quoted in the issues as a
public contract): they name the same classes the feature folders define."""

from app.answering.pipeline import AnswerPipeline, ProcessedAnswer
from app.embeddings import service as embeddings


def test_the_seed_embedding_service_path_still_imports_the_service():
    from app.services import embedding_service

    assert embedding_service.EmbeddingService is embeddings.EmbeddingService
    assert embedding_service.create_embedder is embeddings.create_embedder
    assert embedding_service.BundledE5Embedder is embeddings.BundledE5Embedder


def test_the_seed_ai_service_path_still_imports_the_pipeline():
    from app.services import ai_service

    assert (ai_service.AnswerPipeline, ai_service.ProcessedAnswer) == (
        AnswerPipeline,
        ProcessedAnswer,
    )
