"""Answers with no model at all: the company facts that answer the question.

This keeps the service useful on a fresh machine with no key, and is the last resort
when every model provider fails. (Approved past answers are served before any provider
is asked, by the verified-answer matcher.) Only lines that cover the question are listed
(``app/knowledge/relevance.py``, given as ``lines_for``); with none, the answer says plainly
that it does not know and where to ask — never two unrelated facts.
"""

import logging
from collections.abc import Callable

from app.db.models import AnswerSource
from app.llm.base import Answer
from app.llm.prompt import PromptContext

logger = logging.getLogger(__name__)

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

    def __init__(
        self,
        *,
        knowledge_similarity: float,
        max_facts: int = 2,
        lines_for: Callable[[str], list[str]] | None = None,
    ) -> None:
        self._knowledge_similarity = knowledge_similarity
        self._max_facts = max_facts
        #: The knowledge-base lines that answer a question, best first (None: the
        #: prompt's facts above the similarity floor, as before relevance was checked).
        self._lines_for = lines_for

    def answer(self, context: PromptContext) -> Answer:
        lines = self._lines(context)[: self._max_facts]
        if lines:
            text = "Вот что я нашёл в справочнике компании:\n" + "\n".join(f"— {x}" for x in lines)
            return Answer(text, OFFLINE_MODEL_NAME, AnswerSource.KNOWLEDGE_BASE)
        return Answer(NO_ANSWER_TEXT, OFFLINE_MODEL_NAME, AnswerSource.FALLBACK)

    def _lines(self, context: PromptContext) -> list[str]:
        if self._lines_for is None:
            return [
                s.content for s in context.knowledge if s.similarity >= self._knowledge_similarity
            ]
        try:
            return self._lines_for(context.question)
        except Exception:  # the last resort cannot fail: it says it does not know
            logger.exception("knowledge lines could not be looked up for the offline answer")
            return []

    def check(self) -> str:
        return "healthy"
