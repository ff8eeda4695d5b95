"""The seed's cron commands, run verbatim as crontab runs them."""

import json
import subprocess
import sys

from sqlalchemy import select

from app.core.paths import BACKEND_DIR
from app.db.models import Alert, ModelMetrics, RetrainingRun
from tests.support.logs import add_log


def cron(database_url, tmp_path, *args, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deploy.cron_tasks", *args],
        cwd=BACKEND_DIR,
        env={"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
             "COLUMNS": "200", **env},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def bad_month(database) -> None:
    with database.session() as session:
        for number in range(30):
            rating = 1 if number < 20 else 5
            add_log(session, f"Вопрос {number}?", f"Ответ {number}", rating=rating)
        session.commit()


def test_evaluate_model_on_an_empty_database_says_so_and_succeeds(database_url, tmp_path):
    completed = cron(database_url, tmp_path, "evaluate_model")
    assert completed.returncode == 0, completed.stderr
    assert "nothing to evaluate" in completed.stdout

    as_json = json.loads(cron(database_url, tmp_path, "evaluate_model", "--json").stdout)
    assert as_json["interactions"] == 0 and as_json["model_metrics_id"] is None


def test_evaluate_model_prints_a_table_stores_metrics_and_alerts_on_a_drop(
    database, database_url, tmp_path
):
    bad_month(database)

    completed = cron(
        database_url, tmp_path, "evaluate_model", "--days", "7", GOLDEN_SET_MIN_ITEMS="2"
    )

    assert completed.returncode == 0, completed.stderr
    for label in ("avg_rating", "satisfaction", "accuracy_score", "requires_retraining"):
        assert label in completed.stdout
    with database.session() as session:
        row = session.scalars(select(ModelMetrics)).one()
        assert row.n_rated == 30 and row.avg_rating == 2.333
        assert row.details["golden_set_size"] == 2  # a fifth of the 10 approved questions
        assert row.accuracy_score is not None
        assert session.scalars(select(Alert.kind)).all() == ["quality_drop"]


def test_check_retraining_queues_a_run_when_thresholds_are_crossed(
    database, database_url, tmp_path
):
    bad_month(database)

    completed = cron(
        database_url, tmp_path, "check_retraining", "--json", RETRAINING_MIN_NEW_SAMPLES="5"
    )

    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["requires_retraining"] and result["retraining_run_created"]
    assert any(reason.startswith("average rating 2.33") for reason in result["reasons"])
    with database.session() as session:
        run = session.scalars(select(RetrainingRun)).one()
    assert run.id == result["retraining_run_id"] and run.status == "queued"


def test_check_retraining_on_a_good_month_needs_nothing(database, database_url, tmp_path):
    with database.session() as session:
        for number in range(30):
            add_log(session, f"Вопрос {number}?", f"Ответ {number}", rating=5)
        session.commit()

    completed = cron(database_url, tmp_path, "check_retraining")

    assert completed.returncode == 0 and "no retraining needed" in completed.stdout
    with database.session() as session:
        assert session.scalars(select(RetrainingRun)).all() == []
        assert session.scalars(select(Alert)).all() == []


def test_a_queued_run_is_a_job_in_the_queue_once_however_often_the_check_runs(
    database, database_url, tmp_path
):
    bad_month(database)
    for _ in range(2):
        completed = cron(database_url, tmp_path, "check_retraining", RETRAINING_MIN_NEW_SAMPLES="5")
        assert completed.returncode == 0, completed.stderr

    with database.engine.connect() as connection:
        jobs = connection.exec_driver_sql(
            "SELECT task_name, args, status FROM procrastinate_jobs"
        ).all()
    with database.session() as session:
        run_id = session.scalars(select(RetrainingRun.id)).one()
    assert jobs == [("retrain", {"run_id": run_id}, "todo")]
