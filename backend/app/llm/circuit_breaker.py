"""A circuit breaker in front of a provider that calls out (the paid LLM).

After ``failures`` consecutive failures the circuit *opens*: for ``open_seconds`` the
provider is not called at all and refuses at once, so residents get the cache, knowledge base
or local answer without first waiting out timeouts. Then one request is let through
(*half-open*): success closes the circuit, failure opens it again.
"""

import threading
import time

from app.llm.base import Answer, AnswerProvider, ProviderError
from app.llm.prompt import PromptContext


class CircuitOpenError(ProviderError):
    """The provider failed repeatedly just now; it is not asked until the pause ends."""


class CircuitBreaker:
    def __init__(
        self, provider: AnswerProvider, *, failures: int, open_seconds: float, clock=time.monotonic
    ) -> None:
        self.provider = provider
        self.name = provider.name
        self.model_used = provider.model_used
        self.threshold = failures
        self.open_seconds = open_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "half-open" if self._clock() - self._opened_at >= self.open_seconds else "open"

    def answer(self, context: PromptContext) -> Answer:
        with self._lock:
            state = self._state()
            if state == "open" or (state == "half-open" and self._trial_running):
                raise CircuitOpenError(f"{self.name}: paused after {self._failures} failures")
            self._trial_running = state == "half-open"
        try:
            answer = self.provider.answer(context)
        except ProviderError:
            with self._lock:
                self._failures += 1
                self._trial_running = False
                if self._failures >= self.threshold:
                    self._opened_at = self._clock()
            raise
        with self._lock:
            self._failures, self._opened_at, self._trial_running = 0, None, False
        return answer

    def check(self) -> str:
        state = self.state
        return self.provider.check() if state == "closed" else f"unavailable (circuit {state})"
