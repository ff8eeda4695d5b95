"""Any OpenAI-compatible chat endpoint (OpenAI, Emergent, vLLM, Ollama …) via the openai SDK.

Bounded in time and money: ``max_tokens`` caps what one answer costs; retries are the
provider's own (``LLM_MAX_RETRIES``), only for failures that cost nothing — a refused
connection, 429 or a 5xx. A timeout is not retried: the endpoint most likely processed
(and billed) the request, and asking twice more would triple both the wait and the bill.
Its estimated cost is charged to the dialog, so the stored cost is never zero for a call
that was paid for.
"""

import logging
import math
import time

import openai

from app.core.config import Settings
from app.db.models import AnswerSource
from app.llm.base import Answer, ProviderError
from app.llm.prompt import PromptContext

logger = logging.getLogger(__name__)

HEALTH_CACHE_SECONDS = 30.0
#: Upper-bound token estimate for a prompt that got no usage back (Russian text runs at
#: about 2.5–3.5 characters per token in GPT tokenizers; fewer characters = more tokens).
CHARACTERS_PER_TOKEN = 2.0
RETRY_BACKOFF_SECONDS = 0.5
#: Failures the endpoint does not bill: retrying them costs nothing but time.
RETRYABLE = (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)


def paid_client(settings: Settings, timeout: float) -> openai.OpenAI:
    """The SDK client of the paid endpoint (``LLM_*``), without the SDK's own retries:
    whoever calls decides what may be retried."""
    return openai.OpenAI(
        api_key=settings.llm_api_key or "not-needed",
        base_url=settings.llm_base_url,
        timeout=timeout,
        max_retries=0,
    )


class OpenAICompatibleProvider:
    """The paid LLM. Bounded: one timeout per attempt and a fixed number of retries."""

    name = "llm"

    def __init__(self, settings: Settings) -> None:
        self.model_used = settings.llm_model
        self._max_tokens = settings.llm_max_tokens
        self._price_in = settings.llm_price_input_per_1k
        self._price_out = settings.llm_price_output_per_1k
        # Retried below, where a timeout is told apart.
        self._client = paid_client(settings, settings.llm_timeout_seconds)
        self._retries = settings.llm_max_retries
        self._health: tuple[float, str] | None = None

    def answer(self, context: PromptContext) -> Answer:
        messages = context.messages()
        completion = self._complete(messages)
        try:
            text = (completion.choices[0].message.content or "").strip()
        except (ValueError, IndexError, AttributeError, TypeError) as error:
            raise ProviderError(
                f"paid LLM answered malformed: {type(error).__name__}: {error}",
                cost_usd=self._price(completion),
            ) from error
        if not text:
            raise ProviderError(
                "paid LLM returned an empty answer", cost_usd=self._price(completion)
            )
        usage = completion.usage
        prompt_tokens = usage.prompt_tokens if usage else 0
        completion_tokens = usage.completion_tokens if usage else 0
        return Answer(
            text=text,
            model_used=self.model_used,
            source=AnswerSource.LLM,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=self._price(completion),
        )

    def _complete(self, messages: list[dict[str, str]]):
        for attempt in range(self._retries + 1):
            try:
                return self._client.chat.completions.create(
                    model=self.model_used,
                    messages=messages,
                    temperature=0.3,
                    max_tokens=self._max_tokens,
                )
            except openai.APITimeoutError as error:
                raise ProviderError(
                    f"paid LLM timed out (not retried: it was most likely billed): {error}",
                    cost_usd=self._estimated_cost(messages),
                ) from error
            except RETRYABLE as error:
                if attempt == self._retries:
                    raise ProviderError(
                        f"paid LLM failed: {type(error).__name__}: {error}"
                    ) from error
                logger.warning("paid LLM attempt %d failed, retrying: %s", attempt + 1, error)
                time.sleep(RETRY_BACKOFF_SECONDS * (attempt + 1))
            except (openai.OpenAIError, ValueError, TypeError) as error:
                raise ProviderError(f"paid LLM failed: {type(error).__name__}: {error}") from error
        raise AssertionError("unreachable: the loop returns or raises")

    def _price(self, completion) -> float:
        usage = getattr(completion, "usage", None)
        if usage is None:
            return 0.0
        return (
            usage.prompt_tokens * self._price_in + usage.completion_tokens * self._price_out
        ) / 1000

    def _estimated_cost(self, messages: list[dict[str, str]]) -> float:
        """The most a timed-out call can have cost: the prompt, and a full answer."""
        characters = sum(len(m["content"]) for m in messages)
        prompt_tokens = math.ceil(characters / CHARACTERS_PER_TOKEN)
        return (prompt_tokens * self._price_in + self._max_tokens * self._price_out) / 1000

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
