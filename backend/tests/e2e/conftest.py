"""Whole-service tests: the real app served by uvicorn on 127.0.0.1 (``serve``)."""

import threading
import time

import pytest
import uvicorn

from app.main import create_app
from tests.support.network import free_port


class LiveServer:
    def __init__(self, settings, embedder) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings, embedder=embedder), host="127.0.0.1", port=self.port,
            log_level="warning",
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the app did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def serve(embedder):
    servers: list[LiveServer] = []

    def start(settings) -> LiveServer:
        servers.append(LiveServer(settings, embedder).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()
