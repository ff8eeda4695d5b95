"""Health from real checks: a query, an embedding, a call to the paid LLM's endpoint."""

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.answering.providers.base import AnswerProvider
from app.db.database import Database
from app.embeddings.service import EmbeddingService

if TYPE_CHECKING:
    from app.model_versions.service import LocalModelManager

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthReport:
    status: str  # healthy | degraded | unhealthy
    components: dict[str, str]

    @property
    def database_down(self) -> bool:
        return self.components["database"] != "healthy"

    @property
    def working(self) -> dict[str, bool]:
        """The seed's booleans: a part works when its check came back healthy (an offline
        paid LLM, a disabled local model do not work; answers still come from the rest)."""
        return {name: state == "healthy" for name, state in self.components.items()}


class HealthChecker:
    def __init__(
        self,
        database: Database,
        embeddings: EmbeddingService,
        paid: AnswerProvider | None,
        local_models: "LocalModelManager",
    ) -> None:
        self.database = database
        self.embeddings = embeddings
        self.paid = paid
        self.local_models = local_models

    def check(self) -> HealthReport:
        components = {
            "ai_service": self._ai_service(),
            "embedding_service": self._embedding_service(),
            "local_model": self.local_models.status,
            "database": self._database(),
        }
        if components["database"] != "healthy":
            status = "unhealthy"
        elif "unavailable" in components.values() or components["local_model"] == "failed":
            status = "degraded"
        else:
            status = "healthy"
        return HealthReport(status, components)

    def _database(self) -> str:
        try:
            self.database.ping()
            return "healthy"
        except Exception as error:
            logger.warning("database health check failed: %s", error)
            return "unavailable"

    def _embedding_service(self) -> str:
        try:
            self.embeddings.question_vector("проверка связи")
            return "healthy"
        except Exception:
            logger.exception("embedding health check failed")
            return "unavailable"

    def _ai_service(self) -> str:
        """``offline`` means no paid LLM is configured: answers come from the knowledge base."""
        return self.paid.check() if self.paid else "offline"
