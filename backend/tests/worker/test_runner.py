"""The worker's queue app: built per database, with the tasks registered under the names
the service defers them by, each taking its services from the job context."""

from types import SimpleNamespace

from app.retraining.queue import (
    RETRAIN_TASK,
    RETRAINING_LOCK,
    RETRAINING_QUEUE,
    RETRY_STALLED_TASK,
    SCHEDULE_TICK_TASK,
)
from worker import tasks
from worker.runner import build_queue_app

URL = "postgresql+psycopg://postgres:@/vasdom?host=/tmp/nowhere"


def test_the_tasks_are_registered_under_the_names_the_service_defers():
    queue = build_queue_app(URL)

    retrain = queue.tasks[RETRAIN_TASK]
    assert retrain.queue == RETRAINING_QUEUE and retrain.lock == RETRAINING_LOCK
    assert {SCHEDULE_TICK_TASK, RETRY_STALLED_TASK} <= queue.tasks.keys()
    assert all(queue.tasks[name].pass_context for name in
               (RETRAIN_TASK, SCHEDULE_TICK_TASK, RETRY_STALLED_TASK))  # fmt: skip
    periodic = {task.periodic_id for task in queue.periodic_registry.periodic_tasks.values()}
    assert {SCHEDULE_TICK_TASK, RETRY_STALLED_TASK} <= periodic


def test_each_app_is_its_own_value_for_its_own_database():
    first, second = build_queue_app(URL), build_queue_app(URL.replace("vasdom", "other"))
    assert first is not second and first.connector is not second.connector


def test_a_task_takes_its_services_from_the_job_context():
    context = SimpleNamespace(additional_context={tasks.SERVICES: "the worker's services"})
    assert tasks.services_of(context) == "the worker's services"
