"""The answer pipeline: gather context, pick the cheapest good-enough source, log, reply.

Steps, each a method below: read the session's recent turns and embed the question;
retrieve approved answers and company facts like it; ask the providers in order (local
model, paid LLM) and fall back to the offline answerer, which cannot fail; commit the log
row; only then return. The database connection is released while a model is thinking, so
slow models never starve the pool.
"""

import logging
import time
import uuid
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from app.core.config import Settings
from app.core.errors import InvalidInputError
from app.db.database import Database
from app.db.models import VoiceLog
from app.services.embedding_service import EmbeddingService
from app.services.knowledge_base import KnowledgeBase
from app.services.prompt import ApprovedExample, KnowledgeSnippet, PromptContext, Turn
from app.services.providers.base import Answer, AnswerProvider, ProviderError
from app.services.providers.offline import OfflineAnswerer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessedAnswer:
    log: VoiceLog
    #: The question's vector when it could be computed; stored after the response is sent.
    question_vector: np.ndarray | None


class AnswerPipeline:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        embeddings: EmbeddingService,
        knowledge: KnowledgeBase,
        providers: list[AnswerProvider],
        offline: OfflineAnswerer,
    ) -> None:
        self.settings = settings
        self.database = database
        self.embeddings = embeddings
        self.knowledge = knowledge
        self.providers = providers
        self.offline = offline

    def process(self, message: str, session_id: str | None) -> ProcessedAnswer:
        started = time.perf_counter()
        question = self.validate_message(message)
        session_id = session_id or str(uuid.uuid4())
        vector = self._embed_or_none(question)
        context = self.gather_context(question, session_id, vector)
        answer = self.answer(context)
        log = self.log_answer(question, session_id, answer, time.perf_counter() - started)
        return ProcessedAnswer(log=log, question_vector=vector)

    def validate_message(self, message: str) -> str:
        question = message.strip()
        if not question:
            raise InvalidInputError("Сообщение не может быть пустым")
        if len(question) > self.settings.max_message_length:
            raise InvalidInputError(
                f"Сообщение слишком длинное: {len(question)} символов, "
                f"допускается не более {self.settings.max_message_length}"
            )
        return question

    def _embed_or_none(self, question: str) -> np.ndarray | None:
        """An embedder failure must not cost the resident an answer: go on without retrieval."""
        try:
            return self.embeddings.question_vector(question)
        except Exception:
            logger.exception("question embedding failed; answering without retrieval")
            return None

    def gather_context(
        self, question: str, session_id: str, vector: np.ndarray | None
    ) -> PromptContext:
        settings = self.settings
        with self.database.session() as session:
            history = self.recent_turns(session, session_id)
            examples: list[ApprovedExample] = []
            knowledge: list[KnowledgeSnippet] = []
            if vector is not None:
                similar = self.embeddings.similar_logs(
                    session,
                    vector,
                    limit=settings.context_examples,
                    min_rating=settings.min_rating_threshold,
                )
                examples = [
                    ApprovedExample(
                        log_id=str(s.log.id),
                        question=s.log.user_message,
                        answer=s.log.corrected_response or s.log.ai_response,
                        similarity=s.similarity,
                    )
                    for s in similar
                    if s.similarity >= settings.example_min_similarity
                ]
                knowledge = [
                    KnowledgeSnippet(f.entry.title, f.entry.content, f.similarity)
                    for f in self.knowledge.search(
                        session, vector, settings.context_knowledge_entries
                    )
                ]
        return PromptContext(question, history, examples, knowledge)

    def recent_turns(self, session, session_id: str) -> list[Turn]:
        if self.settings.history_turns == 0:
            return []
        rows = session.execute(
            select(VoiceLog.user_message, VoiceLog.corrected_response, VoiceLog.ai_response)
            .where(VoiceLog.session_id == session_id)
            .order_by(VoiceLog.created_at.desc())
            .limit(self.settings.history_turns)
        ).all()
        return [Turn(q, corrected or answer) for q, corrected, answer in reversed(rows)]

    def answer(self, context: PromptContext) -> Answer:
        """The first provider that gives a usable answer; the offline answerer otherwise."""
        for provider in self.providers:
            try:
                return provider.answer(context)
            except ProviderError as error:
                logger.warning("provider %s failed, trying the next: %s", provider.name, error)
            except Exception:
                logger.exception("provider %s crashed, trying the next", provider.name)
        return self.offline.answer(context)

    def log_answer(
        self, question: str, session_id: str, answer: Answer, response_time: float
    ) -> VoiceLog:
        log = VoiceLog(
            id=uuid.uuid4(),
            session_id=session_id,
            user_message=question,
            ai_response=answer.text,
            model_used=answer.model_used,
            answer_source=answer.source,
            source_log_id=uuid.UUID(answer.source_log_id) if answer.source_log_id else None,
            response_time=response_time,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            cost_usd=answer.cost_usd,
        )
        with self.database.session() as session:
            session.add(log)
            session.commit()
        return log

    def current_model(self) -> str:
        """The model that answers when it can: the first configured provider."""
        return self.providers[0].model_used if self.providers else self.offline.model_used
