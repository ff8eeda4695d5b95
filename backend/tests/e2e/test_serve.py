"""The service as people start it: ``python -m app.cli serve`` in its own process, spoken
to over HTTP on 127.0.0.1, stopped and started again."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.core.paths import BACKEND_DIR
from tests.support.network import free_port
from tests.support.postgres import stop_embedded


@contextmanager
def running_service(env: dict[str, str]) -> Iterator[httpx.Client]:
    """Start the service, wait until it answers, yield a client; stop it like Ctrl+C does."""
    with started_service(env) as (_, base_url), httpx.Client(base_url=base_url, timeout=60) as c:
        yield c


@contextmanager
def started_service(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen, str]]:
    """The service process and its address, once it answers; stopped like Ctrl+C does."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=BACKEND_DIR,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"the service exited early:\n{process.stdout.read()}")
            try:
                if httpx.get(f"{base_url}/api/voice/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the service did not become healthy within 120 s")
            time.sleep(0.5)
        yield process, base_url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def fresh_data_dir() -> Iterator[Path]:
    # Short path: the embedded server's Unix socket lives in it.
    directory = Path(tempfile.mkdtemp(prefix="vdserve"))
    yield directory
    stop_embedded(directory / "pgdata")
    shutil.rmtree(directory, ignore_errors=True)


def test_with_no_configuration_the_service_answers_and_keeps_data_across_restarts(
    fresh_data_dir,
):
    env = {"DATA_DIR": str(fresh_data_dir)}
    with running_service(env) as service:
        answer = service.post(
            "/api/voice/process",
            json={"message": "Сколько стоит уборка подъезда?", "session_id": "e2e"},
        )
        assert answer.status_code == 200
        body = answer.json()
        assert "4800" in body["response"]
        assert body["model_used"] == "offline"
        assert body["answer_source"] == "knowledge_base"
        feedback = service.post(
            "/api/voice/feedback",
            json={"log_id": body["log_id"], "rating": 5, "feedback_text": "Спасибо"},
            headers={"X-Feedback-Token": body["feedback_token"]},
        )
        assert feedback.status_code == 200

    assert (fresh_data_dir / "pgdata" / "PG_VERSION").exists()

    # Restarted with an operator key, to read the status (an operators' endpoint).
    with running_service(env | {"ADMIN_API_KEY": "e2e-operator-key"}) as service:
        status = service.get(
            "/api/voice/self-learning/status", headers={"Authorization": "Bearer e2e-operator-key"}
        ).json()
        assert status["total_interactions"] == 1
        assert status["positive_ratings_count"] == 1
        assert status["avg_rating"] == 5
        health = service.get("/api/voice/health").json()
        assert health["details"]["database"] == "healthy"


def test_with_database_url_the_service_uses_that_server_and_starts_none(
    database_url, database, tmp_path
):
    data_dir = tmp_path / "data"
    env = {"DATABASE_URL": database_url, "DATA_DIR": str(data_dir)}
    with running_service(env) as service:
        body = service.post(
            "/api/voice/process", json={"message": "Когда моют окна в подъезде?"}
        ).json()

    assert not (data_dir / "pgdata").exists()
    with database.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT user_message FROM voice_logs WHERE id = :id"), {"id": body["log_id"]}
        ).scalar()
    assert stored == "Когда моют окна в подъезде?"


def test_a_stopped_service_finishes_requests_in_flight_and_their_embeddings(
    database_url, database, tmp_path, llm_server
):
    llm_server.behaviour.mode = "slow"  # every paid answer takes 3 s
    llm_server.behaviour.delay_seconds = 3
    env = {
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "EMERGENT_LLM_KEY": "test-key",
        "LLM_BASE_URL": llm_server.base_url,
        "LLM_TIMEOUT_SECONDS": "10",
    }
    questions = [f"Вопрос {n}: когда придёт сантехник?" for n in range(3)]
    with started_service(env) as (process, base_url), ThreadPoolExecutor(3) as pool:
        asked = [
            pool.submit(
                httpx.post, f"{base_url}/api/voice/process", json={"message": q}, timeout=30
            )
            for q in questions
        ]
        deadline = time.monotonic() + 20
        while len(llm_server.chat_requests()) < len(questions):  # all three are in flight
            assert time.monotonic() < deadline, "the requests never reached the model"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        answers = [future.result() for future in asked]
        # uvicorn re-raises the signal once it has shut down cleanly.
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in process.stdout.read()

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all(a.json()["answer_source"] == "llm" for a in answers)
    with database.engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT count(*), count(e.log_id) FROM voice_logs l "
                "LEFT JOIN voice_embeddings e ON e.log_id = l.id"
            )
        ).one()
    assert tuple(stored) == (3, 3), "every answered question is logged and embedded"


@pytest.mark.parametrize(
    ("trusted", "limited"), [("", True), ("127.0.0.1", False)], ids=["default", "behind-proxy"]
)
def test_forwarded_addresses_count_only_from_a_configured_proxy(
    database_url, tmp_path, trusted, limited
):
    """By default a client cannot rotate ``X-Forwarded-For`` past its rate limit; behind a
    configured proxy each forwarded address is a client of its own."""
    env = {
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "RATE_LIMIT_CLIENT_PER_MINUTE": "3",
        "RATE_LIMIT_SESSION_PER_MINUTE": "0",
        "FORWARDED_ALLOW_IPS": trusted,
    }
    with running_service(env) as client:
        statuses = [
            client.post(
                "/api/voice/process",
                json={"message": "Как часто моют подъезд?", "session_id": f"s-{n}"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            for n in range(6)
        ]
    assert (429 in statuses) is limited, statuses
