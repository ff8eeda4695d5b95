"""What the service runs beside answering: it stores the question vectors an embedder
failure left out, follows the model registry, and with RUN_WORKER_IN_SERVICE it works the
job queue itself (one-container deployments)."""

import time

import pytest
from sqlalchemy import func, select

from app.db.models import ModelVersion, RetrainingRun, VoiceEmbedding, VoiceLog
from app.model_versions.service import mark_active
from app.retraining.queue import enqueue_retraining
from tests.support.dialog import OPERATOR_HEADERS, OPERATOR_KEY
from training.tiny_model import build_tiny_model


def wait_for(condition, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), "gpt2")


def test_a_version_another_process_activates_starts_answering_without_restart(
    make_client, make_settings, database, tiny_model
):
    client = make_client(
        make_settings(USE_LOCAL_MODEL="true", MODEL_SYNC_SECONDS="0.2", ADMIN_API_KEY=OPERATOR_KEY)
    )
    assert client.get("/api/voice/health").json()["details"]["local_model"] == "failed"
    with database.session() as session:
        version = ModelVersion(name="v-worker", base_model="tiny", path=str(tiny_model),
                               adapter=False, status="candidate")  # fmt: skip
        session.add(version)
        session.commit()

    mark_active(database, version.id)  # what the retraining worker does on promotion

    def current_model() -> str:
        status = client.get("/api/voice/self-learning/status", headers=OPERATOR_HEADERS)
        return status.json()["current_model"]

    assert wait_for(lambda: current_model() == f"local:{tiny_model.name}")  # named by its dir
    assert client.get("/api/voice/health").json()["details"]["local_model"] == "healthy"


def test_with_the_worker_in_the_service_queued_jobs_run_in_the_service(
    make_client, make_settings, database
):
    settings = make_settings(RUN_WORKER_IN_SERVICE="true")
    with database.session() as session:
        run = RetrainingRun(status="rejected", reasons=["done before"], log=[])
        session.add(run)
        session.commit()
    make_client(settings)

    enqueue_retraining(settings.database_url, run.id)

    def job_status() -> str | None:
        with database.engine.connect() as connection:
            row = connection.exec_driver_sql(
                "SELECT status FROM procrastinate_jobs WHERE task_name = 'retrain'"
            ).first()
        return row[0] if row else None

    assert wait_for(lambda: job_status() == "succeeded")


class FlakyEmbedder:
    """The bundled embedder, failing while ``broken`` is set."""

    def __init__(self, embedder) -> None:
        self.inner, self.broken = embedder, False
        self.name = embedder.name

    def embed_queries(self, texts):
        if self.broken:
            raise RuntimeError("embedder out of memory")
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts):
        return self.inner.embed_passages(texts)


def test_an_embedder_failure_costs_no_answer_and_the_vector_is_stored_later(
    make_settings, database, embedder
):
    from fastapi.testclient import TestClient

    from app.main import create_app

    flaky = FlakyEmbedder(embedder)
    settings = make_settings(EMBEDDING_BACKFILL_SECONDS="0.2")
    with TestClient(create_app(settings, embedder=flaky)) as client:
        flaky.broken = True
        answer = client.post("/api/voice/process", json={"message": "Сколько стоит уборка?"})
        assert answer.status_code == 200 and answer.json()["response"]

        def vectors() -> int:
            with database.session() as session:
                return session.scalar(select(func.count()).select_from(VoiceEmbedding))

        with database.session() as session:
            assert session.get(VoiceLog, answer.json()["log_id"]) is not None
        time.sleep(0.5)
        assert vectors() == 0, "no vector while the embedder fails"
        flaky.broken = False
        assert wait_for(lambda: vectors() == 1, timeout=10), "the backfill stored it"
