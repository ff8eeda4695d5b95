"""Answers with no model at all: from approved past answers and the knowledge base.

This keeps the service useful on a fresh machine with no key, and is the last resort
when every model provider fails.
"""

from app.services.prompt import PromptContext
from app.services.providers.base import Answer

OFFLINE_MODEL_NAME = "offline"
NO_ANSWER_TEXT = (
    "Извините, сейчас я не могу точно ответить на этот вопрос. Пожалуйста, обратитесь "
    "в диспетчерскую компании или напишите «оператор», чтобы подключился специалист."
)


class OfflineAnswerer:
    """Never fails: the best approved answer if one is close, else the closest facts."""

    name = "offline"
    model_used = OFFLINE_MODEL_NAME

    def __init__(
        self, *, example_similarity: float, knowledge_similarity: float, max_facts: int = 2
    ) -> None:
        self._example_similarity = example_similarity
        self._knowledge_similarity = knowledge_similarity
        self._max_facts = max_facts

    def answer(self, context: PromptContext) -> Answer:
        best = max(context.examples, key=lambda e: e.similarity, default=None)
        if best is not None and best.similarity >= self._example_similarity:
            return Answer(
                best.answer, OFFLINE_MODEL_NAME, "knowledge_base", source_log_id=best.log_id
            )
        facts = [s for s in context.knowledge if s.similarity >= self._knowledge_similarity]
        if facts:
            lines = [s.content for s in facts[: self._max_facts]]
            text = "Вот что я нашёл в справочнике компании:\n" + "\n".join(f"— {x}" for x in lines)
            return Answer(text, OFFLINE_MODEL_NAME, "knowledge_base")
        return Answer(NO_ANSWER_TEXT, OFFLINE_MODEL_NAME, "fallback")

    def check(self) -> str:
        return "healthy"
