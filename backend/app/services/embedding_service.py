"""The seed's module name for the embedding service, kept so that code written against the
seed still imports: the service lives in ``app/embeddings/service.py``."""

from app.embeddings.service import (
    BundledE5Embedder,
    Embedder,
    EmbeddingService,
    SentenceTransformerEmbedder,
    create_embedder,
)

__all__ = (
    "BundledE5Embedder",
    "Embedder",
    "EmbeddingService",
    "SentenceTransformerEmbedder",
    "create_embedder",
)
