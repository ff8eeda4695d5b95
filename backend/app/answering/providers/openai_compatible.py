"""Any OpenAI-compatible chat endpoint (OpenAI, Emergent, vLLM, Ollama …) via the openai SDK."""

import logging
import time

import openai

from app.answering.prompt import PromptContext
from app.answering.providers.base import Answer, ProviderError
from app.core.config import Settings
from app.db.models import AnswerSource

logger = logging.getLogger(__name__)

HEALTH_CACHE_SECONDS = 30.0


class OpenAICompatibleProvider:
    """The paid LLM. Bounded: one timeout per attempt and a fixed number of retries."""

    name = "llm"

    def __init__(self, settings: Settings) -> None:
        self.model_used = settings.llm_model
        self._max_tokens = settings.llm_max_tokens
        self._price_in = settings.llm_price_input_per_1k
        self._price_out = settings.llm_price_output_per_1k
        self._client = openai.OpenAI(
            api_key=settings.llm_api_key or "not-needed",
            base_url=settings.llm_base_url,
            timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
        )
        self._health: tuple[float, str] | None = None

    def answer(self, context: PromptContext) -> Answer:
        try:
            completion = self._client.chat.completions.create(
                model=self.model_used,
                messages=context.messages(),
                temperature=0.3,
                max_tokens=self._max_tokens,
            )
            text = (completion.choices[0].message.content or "").strip()
        except (openai.OpenAIError, ValueError, IndexError, AttributeError, TypeError) as error:
            raise ProviderError(f"paid LLM failed: {type(error).__name__}: {error}") from error
        if not text:
            raise ProviderError("paid LLM returned an empty answer")
        usage = completion.usage
        prompt_tokens = usage.prompt_tokens if usage else 0
        completion_tokens = usage.completion_tokens if usage else 0
        return Answer(
            text=text,
            model_used=self.model_used,
            source=AnswerSource.LLM,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=(prompt_tokens * self._price_in + completion_tokens * self._price_out) / 1000,
        )

    def check(self) -> str:
        """Ask the endpoint for its model list, at most every 30 s (it is free and fast)."""
        now = time.monotonic()
        if self._health and now - self._health[0] < HEALTH_CACHE_SECONDS:
            return self._health[1]
        try:
            self._client.with_options(timeout=3.0, max_retries=0).models.list()
            status = "healthy"
        except openai.OpenAIError as error:
            logger.warning("paid LLM health check failed: %s", error)
            status = "unavailable"
        self._health = (now, status)
        return status
