"""What routes ask of embeddings, by type (``app/api/deps.py`` says why)."""

from typing import Annotated

from fastapi import Depends

from app.api.deps import provided
from app.embeddings.service import EmbeddingService

EmbeddingsDep = Annotated[EmbeddingService, Depends(provided(EmbeddingService))]
