"""The paid LLM of the self-learning benchmark: a real OpenAI-compatible HTTP server on
127.0.0.1 that plays a general model which does not know the company.

It recognises the intent from the question in the last user message. Each key fact of that
intent is in its answer with probability 0.3, or 0.9 when the fact appears anywhere in the
messages it was sent (context it can copy), padded with plausible generic text. It counts
tokens and charges a fixed price per 1,000 tokens, separately for each API key, so the
learning stream and the paid-only baseline are billed apart.
"""

import json
import random
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from benchmarks.dataset import Intent

FACT_PROBABILITY = 0.3
FACT_PROBABILITY_IN_CONTEXT = 0.9
PRICE_PER_1K_TOKENS = 0.002
MODEL_NAME = "simulated-general-llm"

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

    @property
    def cost_usd(self) -> float:
        return (self.prompt_tokens + self.completion_tokens) / 1000 * PRICE_PER_1K_TOKENS


@dataclass
class SimulatedLLM:
    intents: list[Intent]
    seed: int
    bills: dict[str, Bill] = field(default_factory=lambda: defaultdict(Bill))
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self._by_question = {normalise(q): item for item in self.intents for q in item.questions}
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def complete(self, messages: list[dict], api_key: str) -> dict:
        """One chat completion: the answer text and its usage, billed to ``api_key``."""
        question = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
        context = normalise(" ".join(str(m.get("content", "")) for m in messages))
        intent = self._by_question.get(normalise(question))
        with self._lock:  # one random stream, consumed in request order
            text = self._answer(intent, context)
            bill = self.bills[api_key]
            prompt_tokens = sum(count_tokens(str(m.get("content", ""))) for m in messages)
            completion_tokens = count_tokens(text)
            bill.calls += 1
            bill.prompt_tokens += prompt_tokens
            bill.completion_tokens += completion_tokens
        return {
            "id": "chatcmpl-sim",
            "object": "chat.completion",
            "created": 0,
            "model": MODEL_NAME,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _answer(self, intent: Intent | None, context: str) -> str:
        rng = self._rng
        facts = []
        for fact in intent.key_facts if intent else ():
            known = normalise(fact) in context
            if rng.random() < (FACT_PROBABILITY_IN_CONTEXT if known else FACT_PROBABILITY):
                facts.append(fact)
        body = f"По вашему вопросу: {', '.join(facts)}." if facts else rng.choice(_NO_FACTS)
        return f"{rng.choice(_OPENINGS)} {body} {rng.choice(_CLOSINGS)}"

    def start(self) -> "SimulatedLLM":
        llm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                model = {"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "sim"}
                self._send(200, {"object": "list", "data": [model]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                api_key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                self._send(200, llm.complete(request.get("messages", []), api_key))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
