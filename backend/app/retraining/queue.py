"""Putting work on the Postgres-backed job queue (procrastinate) from the service.

The service only *defers* jobs, by task name; the tasks themselves and the worker that runs
them live in ``worker/`` (``python -m deploy.worker``), which may import the training
library the service never loads. The names below are the contract between the two.
"""

import procrastinate

from app.db.database import libpq_url

RETRAINING_QUEUE = "retraining"
RETRAINING_LOCK = "retraining"
RETRAIN_TASK = "retrain"
SCHEDULE_QUEUE = "schedule"
SCHEDULE_TICK_TASK = "schedule_tick"
RETRY_STALLED_TASK = "retry_stalled_jobs"
EXPERIMENTS_TICK_TASK = "look_at_experiments"
TRAIN_VERIFIER_TASK = "train_verifier"
VERIFIER_LOCK = "verifier"
QUEUES = (RETRAINING_QUEUE, SCHEDULE_QUEUE)
#: Set for a worker the service started (``RUN_WORKER_IN_SERVICE``): it ends with that process.
PARENT_PID_VARIABLE = "WORKER_PARENT_PID"


def enqueue_retraining(database_url: str, run_id: int) -> int | None:
    """Queue ``retrain(run_id)``; None when it is already queued (``queueing_lock``).

    A short-lived app of its own defers the job by task name, so enqueueing from a request
    thread never touches the connection pool of a worker running in the same process."""
    deferrer = procrastinate.App(
        connector=procrastinate.SyncPsycopgConnector(conninfo=libpq_url(database_url))
    )
    with deferrer.open():
        try:
            return deferrer.configure_task(
                RETRAIN_TASK,
                queue=RETRAINING_QUEUE,
                lock=RETRAINING_LOCK,
                queueing_lock=f"retrain-{run_id}",
            ).defer(run_id=run_id)
        except procrastinate.exceptions.AlreadyEnqueued:
            return None


def enqueue_verifier_training(database_url: str) -> int | None:
    """Queue one verifier training run; None when one is queued already."""
    deferrer = procrastinate.App(
        connector=procrastinate.SyncPsycopgConnector(conninfo=libpq_url(database_url))
    )
    with deferrer.open():
        try:
            return deferrer.configure_task(
                TRAIN_VERIFIER_TASK,
                queue=RETRAINING_QUEUE,
                lock=VERIFIER_LOCK,
                queueing_lock=TRAIN_VERIFIER_TASK,
            ).defer()
        except procrastinate.exceptions.AlreadyEnqueued:
            return None
