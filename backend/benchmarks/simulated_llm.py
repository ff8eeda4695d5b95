"""The paid LLM of the self-learning benchmark: a real OpenAI-compatible HTTP server on
127.0.0.1 that plays a general model which does not know the company.

It recognises the intent from the question in the last user message. Each key fact of that
intent is in its answer with probability 0.3, or 0.9 when the fact appears anywhere in the
messages it was sent (context it can copy), padded with plausible generic text. It counts
tokens and charges a fixed price per 1,000 tokens, separately for each API key, so the
learning stream and the paid-only baseline are billed apart.

A judge call (the cache verifier's «да»/«нет» question, ``app/verified_answers/judge.py``)
is answered by comparing the question's intent with the intent whose key facts the quoted
answer holds most of, wrong with probability ``judge_error`` (default 5 %), and billed like
any call.
"""

import json
import random
import re
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.verified_answers.judge import JUDGE_INSTRUCTION
from benchmarks.dataset import Intent
from tests.support.chat_server import ChatServer, completion

FACT_PROBABILITY = 0.3
FACT_PROBABILITY_IN_CONTEXT = 0.9
PRICE_PER_1K_TOKENS = 0.002
MODEL_NAME = "simulated-general-llm"
JUDGE_ERROR = 0.05
_QUOTED = re.compile(r"«(.*?)»", re.DOTALL)

_OPENINGS = [
    "Спасибо за обращение!",
    "Здравствуйте! Хороший вопрос.",
    "Добрый день! Постараюсь помочь.",
    "Понимаю ваш вопрос.",
]
_CLOSINGS = [
    "Если остались вопросы, обратитесь в вашу управляющую компанию.",
    "Точные условия могут зависеть от договора с вашим домом.",
    "Рекомендую также уточнить детали у диспетчера.",
    "Надеюсь, это поможет.",
]
_NO_FACTS = [
    "Обычно такие вопросы решаются по графику, который утверждает управляющая компания.",
    "Как правило, это зависит от условий обслуживания конкретного дома.",
    "К сожалению, точной информации об этом у меня нет.",
]


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


def count_tokens(text: str) -> int:
    """About four characters a token, as for Russian text in common tokenizers."""
    return max(1, len(text) // 4)


@dataclass
class Bill:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: Of ``calls``, the judge's yes/no questions.
    judge_calls: int = 0

    @property
    def cost_usd(self) -> float:
        return (self.prompt_tokens + self.completion_tokens) / 1000 * PRICE_PER_1K_TOKENS


@dataclass
class SimulatedLLM:
    intents: list[Intent]
    seed: int
    judge_error: float = JUDGE_ERROR
    bills: dict[str, Bill] = field(default_factory=lambda: defaultdict(Bill))
    _server: ChatServer | None = None

    def __post_init__(self) -> None:
        self._by_question = {normalise(q): item for item in self.intents for q in item.questions}
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def complete(self, messages: list[dict], api_key: str) -> dict:
        """One chat completion: the answer text and its usage, billed to ``api_key``."""
        question = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
        context = normalise(" ".join(str(m.get("content", "")) for m in messages))
        intent = self._by_question.get(normalise(question))
        judging = bool(messages) and messages[0].get("content") == JUDGE_INSTRUCTION
        with self._lock:  # one random stream, consumed in request order
            text = self._verdict(question) if judging else self._answer(intent, context)
            bill = self.bills[api_key]
            prompt_tokens = sum(count_tokens(str(m.get("content", ""))) for m in messages)
            completion_tokens = count_tokens(text)
            bill.calls += 1
            bill.judge_calls += judging
            bill.prompt_tokens += prompt_tokens
            bill.completion_tokens += completion_tokens
        return completion(text, MODEL_NAME, prompt_tokens, completion_tokens)

    def _answer(self, intent: Intent | None, context: str) -> str:
        rng = self._rng
        facts = []
        for fact in intent.key_facts if intent else ():
            known = normalise(fact) in context
            if rng.random() < (FACT_PROBABILITY_IN_CONTEXT if known else FACT_PROBABILITY):
                facts.append(fact)
        body = f"По вашему вопросу: {', '.join(facts)}." if facts else rng.choice(_NO_FACTS)
        return f"{rng.choice(_OPENINGS)} {body} {rng.choice(_CLOSINGS)}"

    def _verdict(self, prompt: str) -> str:
        """«да» when the quoted answer is the question's intent's (by its key facts)."""
        quoted = _QUOTED.findall(prompt)
        asked = self._by_question.get(normalise(quoted[0])) if quoted else None
        answer = normalise(quoted[1]) if len(quoted) > 1 else ""
        right = asked is not None and self._intent_of_answer(answer) is asked
        if self._rng.random() < self.judge_error:
            right = not right
        return "да" if right else "нет"

    def _intent_of_answer(self, answer: str) -> Intent | None:
        def held(item: Intent) -> float:
            return sum(normalise(f) in answer for f in item.key_facts) / len(item.key_facts)

        best = max(self.intents, key=held)
        return best if held(best) > 0 else None

    def start(self) -> "SimulatedLLM":
        self._server = ChatServer(self._respond, MODEL_NAME).start()
        return self

    def _respond(self, request: dict, headers: Mapping[str, str]) -> tuple[int, bytes]:
        api_key = headers.get("Authorization", "").removeprefix("Bearer ")
        body = self.complete(request.get("messages", []), api_key)
        return 200, json.dumps(body, ensure_ascii=False).encode()

    def stop(self) -> None:
        if self._server:
            self._server.stop()
