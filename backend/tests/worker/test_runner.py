"""The worker's queue app: built per database, with the tasks registered under the names
the service defers them by, each taking its services from the job context."""

import os
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from app.core.paths import BACKEND_DIR
from app.retraining.queue import (
    EXPERIMENTS_TICK_TASK,
    RETRAIN_TASK,
    RETRAINING_LOCK,
    RETRAINING_QUEUE,
    RETRY_STALLED_TASK,
    SCHEDULE_TICK_TASK,
    TRAIN_VERIFIER_TASK,
    VERIFIER_LOCK,
)
from worker import tasks
from worker.runner import build_queue_app

URL = "postgresql+psycopg://postgres:@/vasdom?host=/tmp/nowhere"


def test_the_tasks_are_registered_under_the_names_the_service_defers():
    queue = build_queue_app(URL)

    retrain = queue.tasks[RETRAIN_TASK]
    assert retrain.queue == RETRAINING_QUEUE and retrain.lock == RETRAINING_LOCK
    periodic_tasks = {SCHEDULE_TICK_TASK, RETRY_STALLED_TASK, EXPERIMENTS_TICK_TASK}
    assert periodic_tasks <= queue.tasks.keys()
    assert all(queue.tasks[name].pass_context for name in periodic_tasks | {RETRAIN_TASK})
    periodic = {task.periodic_id for task in queue.periodic_registry.periodic_tasks.values()}
    assert periodic_tasks <= periodic
    verifier = queue.tasks[TRAIN_VERIFIER_TASK]
    assert verifier.lock == VERIFIER_LOCK and verifier.pass_context


def test_the_schedule_and_experiment_ticks_run_as_often_as_configured():
    queue = build_queue_app(URL, "*/5 * * * *", "*/2 * * * *")
    crons = {t.periodic_id: t.cron for t in queue.periodic_registry.periodic_tasks.values()}
    assert crons[SCHEDULE_TICK_TASK] == "*/5 * * * *"
    assert crons[EXPERIMENTS_TICK_TASK] == "*/2 * * * *"


@pytest.mark.parametrize("name", ["SCHEDULE_TICK_CRON", "EXPERIMENT_TICK_CRON"])
def test_a_schedule_that_is_not_cron_is_refused_at_start_up(make_settings, name):
    with pytest.raises(ValidationError, match=name):
        make_settings(**{name: "every minute"})


def test_each_app_is_its_own_value_for_its_own_database():
    first, second = build_queue_app(URL), build_queue_app(URL.replace("vasdom", "other"))
    assert first is not second and first.connector is not second.connector


def test_a_task_takes_its_services_from_the_job_context():
    context = SimpleNamespace(additional_context={tasks.SERVICES: "the worker's services"})
    assert tasks.services_of(context) == "the worker's services"


def test_a_worker_the_service_started_ends_when_the_service_is_killed(database_url, tmp_path):
    """The service starts its worker with WORKER_PARENT_PID; SIGKILL the service and the
    worker goes too instead of working the queue unattended."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT],
        cwd=BACKEND_DIR,
        env={**os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        text=True,
    )
    worker_pid = int(parent.stdout.readline())
    time.sleep(3)  # let the worker arm its signal
    assert alive(worker_pid)

    parent.kill()
    parent.wait()

    deadline = time.monotonic() + 30
    while alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(worker_pid)


PARENT = """
import os, subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-m", "deploy.worker"],
                          env={**os.environ, "WORKER_PARENT_PID": str(os.getpid())})
print(worker.pid, flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by init) counts as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
