"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: it answers, stalls, fails
or talks nonsense on request, and remembers every request body it received."""

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.verified_answers.judge import JUDGE_INSTRUCTION
from tests.support.chat_server import ChatServer, completion


@dataclass
class Behaviour:
    mode: str = "ok"  # ok | slow | error500 | badjson | empty
    reply: str = "Влажная уборка проводится 2 раза в неделю."
    delay_seconds: float = 2.0
    #: What a judge call (the cache verifier's yes/no question) is answered with.
    verdict: str = "Да."


@dataclass
class OpenAIStubServer:
    behaviour: Behaviour = field(default_factory=Behaviour)
    requests: list[dict] = field(default_factory=list)
    _server: ChatServer | None = None

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def start(self) -> "OpenAIStubServer":
        self._server = ChatServer(self._respond, "stub-model").start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()

    def _respond(self, request: dict, headers: Mapping[str, str]) -> tuple[int, bytes]:
        self.requests.append(request)
        behaviour = self.behaviour
        if behaviour.mode == "slow":
            time.sleep(behaviour.delay_seconds)
        if behaviour.mode == "error500":
            return 500, b'{"error": {"message": "internal error"}}'
        if behaviour.mode == "badjson":
            return 200, b"{this is not json"
        if is_judge_call(request):
            return 200, json.dumps(completion(behaviour.verdict, "stub-model", 90, 1)).encode()
        content = "" if behaviour.mode == "empty" else behaviour.reply
        return 200, json.dumps(completion(content, "stub-model", 120, 30)).encode()

    def chat_requests(self) -> list[dict]:
        """Generations (judge calls apart: ``judge_requests``)."""
        return [r for r in self.requests if "messages" in r and not is_judge_call(r)]

    def judge_requests(self) -> list[dict]:
        return [r for r in self.requests if "messages" in r and is_judge_call(r)]


def is_judge_call(request: dict) -> bool:
    messages = request.get("messages") or [{}]
    return messages[0].get("role") == "system" and messages[0].get("content") == JUDGE_INSTRUCTION
