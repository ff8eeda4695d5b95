"""Fixtures that build real things: one embedded PostgreSQL for the run, the bundled
embedder loaded once, the app with its lifespan, and a real OpenAI-compatible server."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.core.config import Settings
from app.db.database import Database
from app.db.embedded import start_embedded_postgres
from app.db.migrations import upgrade_to_head
from app.embeddings.service import BundledE5Embedder
from app.main import create_app
from tests.support.dialog import OPERATOR_KEY
from tests.support.openai_server import OpenAIStubServer
from tests.support.postgres import stop_embedded

# Settings of the machine running the tests must not leak into them.
for _name in list(os.environ):
    if _name in Settings.model_fields or _name in {
        field.alias for field in Settings.model_fields.values() if field.alias
    }:
        del os.environ[_name]


@pytest.fixture(scope="session")
def pg_data_dir() -> Iterator[Path]:
    # Short path: the server's Unix socket lives in it.
    directory = Path(tempfile.mkdtemp(prefix="vdtest"))
    yield directory
    stop_embedded(directory / "pgdata")
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(pg_data_dir: Path) -> str:
    url = start_embedded_postgres(pg_data_dir, database="vasdom_test", stop_on_exit=False)
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> None:
    """Each test that touches the database starts from empty tables."""
    if "database_url" not in request.fixturenames:
        return
    db: Database = request.getfixturevalue("database")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "TRUNCATE voice_feedback, voice_embeddings, voice_logs, knowledge_entries, "
                "model_metrics, training_datasets, verified_answers, answer_evidence, app_state, "
                "model_versions, golden_set_items, alerts, retraining_runs, "
                "procrastinate_jobs, procrastinate_workers, procrastinate_periodic_defers, "
                "operator_accounts, operator_sessions, voice_recordings, "
                "experiments, experiment_arms, experiment_answers, experiment_looks, "
                "rate_limit_buckets, verified_answer_changes, token_secrets, "
                "verifier_versions, judge_verdicts "
                "RESTART IDENTITY CASCADE"
            )
        )


@pytest.fixture(scope="session")
def embedder() -> BundledE5Embedder:
    return BundledE5Embedder()


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path):
    def make(**overrides) -> Settings:
        values = {
            "DATABASE_URL": database_url,
            "DATA_DIR": str(tmp_path / "data"),
            # Tests fire requests faster than any resident; the limits have their own tests.
            "RATE_LIMIT_CLIENT_PER_MINUTE": "0",
            "RATE_LIMIT_SESSION_PER_MINUTE": "0",
            # The test client plays the residents' reverse proxy: each simulated resident
            # arrives with its own X-Forwarded-For (tests/support/dialog.py).
            "FORWARDED_ALLOW_IPS": "testclient",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def settings(make_settings) -> Settings:
    return make_settings(ADMIN_API_KEY=OPERATOR_KEY)


@pytest.fixture
def make_client(embedder):
    clients: list[TestClient] = []

    def make(settings: Settings) -> TestClient:
        client = TestClient(create_app(settings, embedder=embedder), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client, settings) -> TestClient:
    """The app with no paid LLM: answers come from the knowledge base."""
    return make_client(settings)


@pytest.fixture
def llm_server() -> Iterator[OpenAIStubServer]:
    server = OpenAIStubServer().start()
    yield server
    server.stop()


@pytest.fixture
def make_llm_client(make_client, make_settings, llm_server):
    """The app with the paid LLM pointed at the local OpenAI-compatible server."""

    def make(**overrides) -> TestClient:
        values = {
            "EMERGENT_LLM_KEY": "test-key",
            "LLM_BASE_URL": llm_server.base_url,
            "LLM_TIMEOUT_SECONDS": "1",
            "LLM_MAX_RETRIES": "1",
        }
        return make_client(make_settings(**(values | overrides)))

    return make


@pytest.fixture
def llm_client(make_llm_client) -> TestClient:
    return make_llm_client()


@pytest.fixture
def bot(make_llm_client) -> TestClient:
    """The service with the paid model and operator endpoints enabled (``BOT_OPERATOR``)."""
    from tests.support.dialog import BOT_ADMIN_KEY

    return make_llm_client(ADMIN_API_KEY=BOT_ADMIN_KEY)


@pytest.fixture(scope="session")
def whisper_dir(tmp_path_factory) -> str:
    """The bundled Whisper put together once for the run (the app does it under DATA_DIR);
    spoken-question tests also need Festival to speak their questions."""
    pytest.importorskip("faster_whisper")
    from app.voice.recognition import bundled_whisper_dir
    from tests.support.speech import require_festival

    require_festival()
    return str(bundled_whisper_dir(tmp_path_factory.mktemp("asr")))
