"""A minimal OpenAI-compatible HTTP server on 127.0.0.1, run in a background thread.

It answers ``GET …/models`` itself and hands every POST (a chat completion) to a
function, so the benchmark's simulated LLM and the tests' scripted LLM share the HTTP part.
"""

import json
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: (request body, request headers) -> (HTTP status, response body)
Responder = Callable[[dict, Mapping[str, str]], tuple[int, bytes]]


def completion(content: str, model: str, prompt_tokens: int, completion_tokens: int) -> dict:
    """A chat completion body as the OpenAI API returns it."""
    return {
        "id": "chatcmpl-local",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class ChatServer:
    def __init__(self, respond: Responder, model: str) -> None:
        self._respond = respond
        self._model = model
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "ChatServer":
        respond, model = self._respond, self._model

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a stalled model is the point)

            def do_GET(self) -> None:
                listed = {"id": model, "object": "model", "created": 0, "owned_by": "local"}
                self._send(200, json.dumps({"object": "list", "data": [listed]}).encode())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                self._send(*respond(request, self.headers))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
