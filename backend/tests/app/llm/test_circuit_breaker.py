"""The circuit breaker in front of the paid LLM: stop asking a failing server, answer at
once from what else there is, and try again after the pause."""

import pytest

from app.llm.base import Answer, ProviderError
from app.llm.circuit_breaker import CircuitBreaker, CircuitOpenError
from app.llm.prompt import PromptContext


class Flaky:
    name = "llm"
    model_used = "stub"

    def __init__(self) -> None:
        self.fail = True
        self.calls = 0

    def answer(self, context: PromptContext) -> Answer:
        self.calls += 1
        if self.fail:
            raise ProviderError("500")
        return Answer("ответ", "stub", "llm")

    def check(self) -> str:
        return "healthy"


def test_it_opens_after_repeated_failures_and_closes_after_a_good_trial():
    now = [0.0]
    provider = Flaky()
    breaker = CircuitBreaker(provider, failures=3, open_seconds=30, clock=lambda: now[0])
    question = PromptContext("Как часто моют подъезд?")

    for _ in range(3):
        with pytest.raises(ProviderError):
            breaker.answer(question)
    assert breaker.state == "open" and provider.calls == 3
    with pytest.raises(CircuitOpenError):
        breaker.answer(question)
    assert provider.calls == 3, "an open circuit does not call the server"
    assert breaker.check() == "unavailable (circuit open)"

    now[0] = 30.0  # the pause is over: one trial; it fails, so the circuit opens again
    with pytest.raises(ProviderError):
        breaker.answer(question)
    assert breaker.state == "open" and provider.calls == 4

    now[0] = 61.0
    provider.fail = False
    assert breaker.answer(question).text == "ответ"
    assert breaker.state == "closed" and breaker.check() == "healthy"


def test_a_failing_paid_llm_is_skipped_and_answers_stay_truthful(make_llm_client, llm_server):
    llm_server.behaviour.mode = "error500"
    client = make_llm_client(LLM_CIRCUIT_FAILURES="2", LLM_CIRCUIT_OPEN_SECONDS="600")
    replies = [
        client.post("/api/voice/process", json={"message": f"Сколько стоит уборка? {n}"}).json()
        for n in range(4)
    ]
    asked = len(llm_server.requests)

    assert all(r["model_used"] == "offline" for r in replies), "never named after the paid LLM"
    assert asked == 2 * 2, "two requests with one retry each, then the circuit stays open"
    assert client.get("/api/voice/health").json()["details"]["ai_service"].startswith("unavailable")
