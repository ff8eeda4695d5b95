"""Health from real checks: a query, an embedding, a call to the paid LLM's endpoint.

The database is asked on every call (a cheap ``SELECT 1``, and what decides the 503); the
embedding and the paid LLM's model list are remembered for ``CHECK_CACHE_SECONDS``, so a
client polling ``/health`` cannot make the service embed text for it without limit."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.db.database import Database
from app.embeddings.service import EmbeddingService
from app.llm.base import AnswerProvider
from app.model_versions.service import LocalModelManager
from app.voice.service import SpeechInput, SpeechOutput

logger = logging.getLogger(__name__)

CHECK_CACHE_SECONDS = 30.0


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
        local_models: LocalModelManager,
        clock: Callable[[], float] = time.monotonic,
        speech: tuple[SpeechInput, SpeechOutput] | None = None,
    ) -> None:
        self.database = database
        self._clock = clock
        self._embedding_checked: tuple[float, str] | None = None
        self.embeddings = embeddings
        self.paid = paid
        self.local_models = local_models
        self.speech = speech

    def check(self) -> HealthReport:
        components = {
            "ai_service": self._ai_service(),
            "embedding_service": self._embedding_service(),
            "local_model": self.local_models.status,
            "database": self._database(),
        }
        if self.speech is not None:
            components["speech_recognition"] = self.speech[0].status
            components["speech_synthesis"] = self.speech[1].status
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
        now = self._clock()
        if self._embedding_checked and now - self._embedding_checked[0] < CHECK_CACHE_SECONDS:
            return self._embedding_checked[1]
        try:
            self.embeddings.question_vector("проверка связи")
            state = "healthy"
        except Exception:
            logger.exception("embedding health check failed")
            state = "unavailable"
        self._embedding_checked = (now, state)
        return state

    def _ai_service(self) -> str:
        """``offline`` means no paid LLM is configured: answers come from the knowledge base."""
        return self.paid.check() if self.paid else "offline"
