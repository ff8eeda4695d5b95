"""Answers with no model at all: the company facts closest to the question.

This keeps the service useful on a fresh machine with no key, and is the last resort
when every model provider fails. (Approved past answers are served before any provider
is asked, by the verified-answer matcher.)
"""

from app.db.models import AnswerSource
from app.llm.base import Answer
from app.llm.prompt import PromptContext

OFFLINE_MODEL_NAME = "offline"
NO_ANSWER_TEXT = (
    "Извините, сейчас я не могу точно ответить на этот вопрос. Пожалуйста, обратитесь "
    "в диспетчерскую компании или напишите «оператор», чтобы подключился специалист."
)

#: The reply to a resident's thanks at the end of a conversation: no model is asked.
COURTESY_ANSWER = Answer(
    "Пожалуйста! Если появятся вопросы — пишите, я на связи.", "courtesy", AnswerSource.FALLBACK
)


class OfflineAnswerer:
    """Never fails: the closest facts, or an honest "I don't know" with where to ask."""

    name = "offline"
    model_used = OFFLINE_MODEL_NAME

    def __init__(self, *, knowledge_similarity: float, max_facts: int = 2) -> None:
        self._knowledge_similarity = knowledge_similarity
        self._max_facts = max_facts

    def answer(self, context: PromptContext) -> Answer:
        facts = [s for s in context.knowledge if s.similarity >= self._knowledge_similarity]
        if facts:
            lines = [s.content for s in facts[: self._max_facts]]
            text = "Вот что я нашёл в справочнике компании:\n" + "\n".join(f"— {x}" for x in lines)
            return Answer(text, OFFLINE_MODEL_NAME, AnswerSource.KNOWLEDGE_BASE)
        return Answer(NO_ANSWER_TEXT, OFFLINE_MODEL_NAME, AnswerSource.FALLBACK)

    def check(self) -> str:
        return "healthy"
