"""The whole automatic loop with a tiny model built here: evaluate → decide → queued job →
a real worker process → golden-set gate → a canary answering half the conversations →
residents' ratings → promoted for everyone; then a worse candidate is rejected; and a
worker killed mid-job has its job picked up by the next worker."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import BackgroundTasks
from sqlalchemy import select

from app.answering.turns import Question
from app.container import build_services
from app.core.config import Settings
from app.core.paths import BACKEND_DIR
from app.db.models import Alert, ModelVersion, RetrainingRun, VoiceLog
from app.retraining.queue import enqueue_retraining
from tests.support.logs import add_log
from training.tiny_model import build_tiny_model
from worker import tasks
from worker.retraining_job import RetrainingJob
from worker.schedule import run_schedule

UNHELPFUL = "Уточните, пожалуйста, этот вопрос у диспетчера."


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-base"), "gpt2", hidden_size=64)


@pytest.fixture
def cycle_env(database_url, tmp_path, llm_server, tiny_base) -> dict[str, str]:
    """The settings of one deployment: the service, the worker process and this test."""
    llm_server.behaviour.reply = UNHELPFUL  # the paid model knows nothing of the company
    return {
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "EMERGENT_LLM_KEY": "test-key",
        "LLM_BASE_URL": llm_server.base_url,
        "USE_LOCAL_MODEL": "true",
        "LOCAL_MIN_CONFIDENCE": "0",
        "LOCAL_MAX_NEW_TOKENS": "48",
        "MODEL_SYNC_SECONDS": "0",
        "RETRAINING_BASE_MODEL": str(tiny_base),
        "RETRAINING_LORA": "false",  # a randomly initialised model needs all weights trained
        "RETRAINING_MAX_STEPS": "60",
        "RETRAINING_LEARNING_RATE": "0.003",
        "RETRAINING_BATCH_SIZE": "8",
        "GOLDEN_SET_MIN_ITEMS": "5",
        "MIN_RATED_FOR_DECISION": "10",
        "RETRAINING_MIN_NEW_SAMPLES": "10",
        "WORKER_STALLED_SECONDS": "1",
        "CANARY_SHARE": "0",  # a candidate that passes the gate is switched on at once
    }


WINDOWS = "Окна в подъездах моем 2 раза в год — в апреле и в сентябре."
ASKING = ["", "Подскажите, ", "Скажите, пожалуйста, ", "Вопрос: ", "Здравствуйте! "]


def history(session) -> None:
    """Twenty-five approved dialogs — residents asking, in many ways, when the windows are
    washed, and the company's answer — and a recent week of paid answers rated 1 star.
    One answer to learn keeps a model this small reliably better than the paid stub."""
    intent = next(
        json.loads(line)
        for line in (BACKEND_DIR / "datasets" / "dialogs_dev.jsonl").read_text().splitlines()
        if json.loads(line)["reference_answer"].startswith("Окна")
    )
    questions = [f"{lead}{q[0].lower() if lead else q[0]}{q[1:]}"
                 for q in intent["questions"][:5] for lead in ASKING]  # fmt: skip
    month_ago = datetime.now(UTC) - timedelta(days=20)
    for question in questions:
        add_log(session, question, WINDOWS, rating=5, created_at=month_ago)
    for number in range(40):
        add_log(session, f"Вопрос жильца {number}", UNHELPFUL, rating=1)
    session.commit()


def settings_of(env: dict[str, str], **overrides: str) -> Settings:
    return Settings(_env_file=None, **(env | overrides))


def worker(env: dict[str, str], *args: str, wait: bool = True) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "deploy.worker", *args],
        cwd=BACKEND_DIR, env=dict(os.environ) | env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    if wait:
        output, _ = process.communicate(timeout=400)
        assert process.returncode == 0, output[-3000:]
    return process


def test_a_quality_drop_retrains_a_canary_that_residents_promote_then_a_worse_one_is_rejected(
    database, embedder, cycle_env
):
    canary_env = cycle_env | {"CANARY_SHARE": "0.5", "EXPERIMENT_MIN_CLIENTS": "5"}
    services = build_services(settings_of(canary_env), embedder=embedder)
    try:
        with database.session() as session:
            history(session)

        tick = run_schedule(services)  # what the hourly tick does when an evaluation is due

        assert tick["evaluated"] and tick["retraining_run_id"] is not None
        run_id = tick["retraining_run_id"]
        worker(canary_env, "--burst")  # a real worker process takes the job from the queue

        with database.session() as session:
            run = session.get(RetrainingRun, run_id)
            candidate = session.get(ModelVersion, run.candidate_version_id)
        assert run.status == "canary", (run.log, run.result)
        assert [entry["step"] for entry in run.log][:3] == ["start", "export", "export"]
        gate = run.result["gate"]
        assert gate["candidate"]["accuracy_score"] >= gate["active"]["accuracy_score"] + 0.02
        assert candidate.status == "candidate", "a canary answers only its share at first"
        residents_try_the_canary(services, candidate.name)
        assert look_at_experiments(services)[0]["arm"] == "кандидат"

        with database.session() as session:
            run = session.get(RetrainingRun, run_id)
            candidate = session.get(ModelVersion, run.candidate_version_id)
            kinds = session.scalars(select(Alert.kind).order_by(Alert.id)).all()
        assert (run.status, candidate.status) == ("promoted", "active")
        assert kinds == ["quality_drop", "retraining_started", "canary_started",
                         "canary_promoted"]  # fmt: skip
        assert_served_after_conversion(services, run, candidate)
    finally:
        services.close()

    a_weaker_candidate_is_rejected(database, embedder, cycle_env, candidate.id)


def a_weaker_candidate_is_rejected(database, embedder, cycle_env, active_id: int) -> None:
    """A second run whose candidate barely trained: worse than the active model, rejected
    at the gate (no canary)."""
    weak = build_services(settings_of(cycle_env, RETRAINING_MAX_STEPS="1"), embedder=embedder)
    try:
        with database.session() as session:
            second = RetrainingRun(status="queued", reasons=["test"], log=[])
            session.add(second)
            session.commit()
        assert RetrainingJob(weak).run(second.id) == "rejected"
        assert RetrainingJob(weak).run(second.id) == "rejected"  # idempotent: nothing reruns
        with database.session() as session:
            second = session.get(RetrainingRun, second.id)
            statuses = dict(session.execute(select(ModelVersion.id, ModelVersion.status)).all())
        assert second.attempts == 1
        assert statuses == {active_id: "active", second.candidate_version_id: "rejected"}
        assert any("does not beat" in reason for reason in second.result["gate"]["reasons"])
    finally:
        weak.close()


def residents_try_the_canary(services, candidate: str) -> None:
    """Conversations in the canary's arm are answered by the candidate, the others by the
    paid model (no local model was active); residents rate what they were told."""
    answered: dict[str, int] = {}
    for number in range(16):
        background = BackgroundTasks()
        question = Question(f"canary-{number}", None, message="Когда моют окна в подъезде?")
        log, _ = services.turns.take(f"10.7.0.{number + 1}", background, question, None)
        for task in background.tasks:
            task.func(*task.args, **task.kwargs)
        answered[log.model_used] = answered.get(log.model_used, 0) + 1
        with services.database.transaction() as session:
            rated = session.get(VoiceLog, log.id)
            rated.rating = 5 if log.model_used == f"local:{candidate}" else 1
    assert set(answered) == {f"local:{candidate}", "gpt-4o-mini"}, answered
    assert min(answered.values()) >= 5, answered


def look_at_experiments(services) -> list[dict]:
    """The worker's periodic look, with the services it puts in the job context."""
    context = SimpleNamespace(additional_context={tasks.SERVICES: services})
    return tasks.look_at_experiments(context, int(time.time()))


def assert_served_after_conversion(services, run, candidate) -> None:
    """The service follows the registry: the promoted version now answers, from the
    weights the job converted for the fast engine."""
    assert services.local_models.sync_with_registry()
    assert services.pipeline.current_model() == f"local:{candidate.name}"
    assert "convert" in [entry["step"] for entry in run.log]
    assert (Path(candidate.path) / "ctranslate2" / "model.bin").is_file()
    assert services.local_models.provider.engine == "ctranslate2"


def test_a_job_whose_worker_was_killed_is_picked_up_by_the_next_worker(database, cycle_env):
    env = cycle_env | {"RETRAINING_MAX_STEPS": "2"}
    with database.session() as session:
        history(session)
        run = RetrainingRun(status="queued", reasons=["test"], log=[])
        session.add(run)
        session.commit()
    enqueue_retraining(env["DATABASE_URL"], run.id)
    with database.session() as blocker:  # hold the run's row: the job stops at its first write
        blocker.execute(select(RetrainingRun).where(RetrainingRun.id == run.id).with_for_update())
        first = worker(env, wait=False)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and job_statuses(database) != ["doing"]:
            time.sleep(0.5)
        assert job_statuses(database) == ["doing"]
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        blocker.rollback()

    time.sleep(2)  # past WORKER_STALLED_SECONDS without a heartbeat
    worker(env, "--burst")

    with database.session() as session:
        run = session.get(RetrainingRun, run.id)
    assert run.status in ("promoted", "rejected") and run.attempts == 1
    assert job_statuses(database) == ["succeeded"]


def job_statuses(database) -> list[str]:
    """Statuses of retraining jobs (the periodic tasks have jobs of their own)."""
    with database.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT status FROM procrastinate_jobs WHERE task_name = 'retrain'"
        )
        return [status for (status,) in rows]


def test_a_run_that_keeps_failing_ends_failed_with_an_alert_and_the_model_untouched(
    database, embedder, cycle_env
):
    services = build_services(settings_of(cycle_env), embedder=embedder)
    try:
        with database.session() as session:  # nothing approved: the export comes out empty
            run = RetrainingRun(status="queued", reasons=["test"], log=[])
            session.add(run)
            session.commit()
        for attempt in range(1, 4):
            with pytest.raises(RuntimeError, match="no training samples"):
                RetrainingJob(services).run(run.id)
            with database.session() as session:
                status = session.get(RetrainingRun, run.id).status
            assert status == ("failed" if attempt == 3 else "queued")
        with database.session() as session:
            run = session.get(RetrainingRun, run.id)
            kinds = session.scalars(select(Alert.kind).order_by(Alert.id)).all()
            versions = session.scalars(select(ModelVersion)).all()
        assert run.attempts == 3 and run.finished_at is not None
        assert [e["step"] for e in run.log].count("error") == 3
        assert kinds == ["retraining_started", "retraining_failed"] and versions == []
        assert RetrainingJob(services).run(run.id) == "failed"  # an ended run stays ended
    finally:
        services.close()
