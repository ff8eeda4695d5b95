"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: it answers, stalls, fails
or talks nonsense on request, and remembers every request body it received."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Behaviour:
    mode: str = "ok"  # ok | slow | error500 | badjson | empty
    reply: str = "Влажная уборка проводится 2 раза в неделю."
    delay_seconds: float = 2.0


@dataclass
class OpenAIStubServer:
    behaviour: Behaviour = field(default_factory=Behaviour)
    requests: list[dict] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "OpenAIStubServer":
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                body = {
                    "object": "list",
                    "data": [
                        {"id": "stub-model", "object": "model", "created": 0, "owned_by": "tests"}
                    ],
                }
                self._send(200, json.dumps(body).encode())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                stub.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                behaviour = stub.behaviour
                if behaviour.mode == "slow":
                    time.sleep(behaviour.delay_seconds)
                if behaviour.mode == "error500":
                    self._send(500, b'{"error": {"message": "internal error"}}')
                elif behaviour.mode == "badjson":
                    self._send(200, b"{this is not json")
                else:
                    content = "" if behaviour.mode == "empty" else behaviour.reply
                    self._send(200, json.dumps(_completion(content)).encode())

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def chat_requests(self) -> list[dict]:
        return [r for r in self.requests if "messages" in r]


def _completion(content: str) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "stub-model",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
    }
