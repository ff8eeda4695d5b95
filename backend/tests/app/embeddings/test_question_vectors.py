"""Question vectors are remembered by exact text: a repeated question costs no embedding."""

import numpy as np
import pytest

from app.embeddings.service import EmbeddingService


class CountingEmbedder:
    name = "counting"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def embed_queries(self, texts):
        self.calls.extend(texts)
        return np.asarray([[len(t), 1.0] for t in texts], dtype=np.float32)

    def embed_passages(self, texts):
        return self.embed_queries(texts)


def test_a_repeated_question_is_embedded_once_and_its_vector_cannot_be_changed():
    embedder = CountingEmbedder()
    service = EmbeddingService(embedder)
    first = service.question_vector("Когда моют окна?")
    again = service.question_vector("Когда моют окна?")
    other = service.question_vector("когда моют окна?")
    assert embedder.calls == ["Когда моют окна?", "когда моют окна?"], "exact text, case counts"
    assert again is first and other is not first
    with pytest.raises(ValueError):
        first[0] = 0.0
