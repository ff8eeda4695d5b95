"""What routes ask of the knowledge base, by type (``app/api/deps.py`` says why)."""

from typing import Annotated

from fastapi import Depends

from app.api.deps import provided
from app.knowledge.service import KnowledgeBase

KnowledgeDep = Annotated[KnowledgeBase, Depends(provided(KnowledgeBase))]
