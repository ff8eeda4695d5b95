"""Builds the worker's procrastinate App once, for one database, and works the queues.

The App is a value built here (no module-level App whose connector is rewritten later):
``build_queue_app`` registers the tasks of ``worker.tasks`` under the names the service
defers them by (``app.retraining.queue``), and ``work`` runs it with the services in the
job context.
"""

import ctypes
import logging
import os
import signal
import sys

import procrastinate

from app.container import Services
from app.db.database import libpq_url
from app.retraining.queue import (
    EXPERIMENTS_TICK_TASK,
    QUEUES,
    RETRAIN_TASK,
    RETRAINING_LOCK,
    RETRAINING_QUEUE,
    RETRY_STALLED_TASK,
    SCHEDULE_QUEUE,
    SCHEDULE_TICK_TASK,
    TRAIN_VERIFIER_TASK,
    VERIFIER_LOCK,
)
from worker import tasks

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """A worker started by the service ends with it, even when the service is killed
    (Linux ``PR_SET_PDEATHSIG``, set from the worker itself, after exec, where it is safe)."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the service died before the signal was armed
        os.kill(os.getpid(), signal.SIGTERM)


def build_queue_app(
    database_url: str, tick_cron: str = "0 * * * *", experiment_cron: str = "* * * * *"
) -> procrastinate.App:
    queue = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=libpq_url(database_url))
    )
    queue.task(
        name=RETRAIN_TASK,
        queue=RETRAINING_QUEUE,
        lock=RETRAINING_LOCK,
        retry=procrastinate.RetryStrategy(max_attempts=2, wait=30),
        pass_context=True,
    )(tasks.retrain)
    queue.task(
        name=TRAIN_VERIFIER_TASK, queue=RETRAINING_QUEUE, lock=VERIFIER_LOCK, pass_context=True
    )(tasks.train_verifier)
    periodic(queue, SCHEDULE_TICK_TASK, tasks.schedule_tick, tick_cron)
    periodic(queue, RETRY_STALLED_TASK, tasks.retry_stalled_jobs, "* * * * *")
    periodic(queue, EXPERIMENTS_TICK_TASK, tasks.look_at_experiments, experiment_cron)
    return queue


def periodic(queue: procrastinate.App, name: str, task, cron: str) -> None:
    """``task`` on the schedule queue every ``cron``, queued at most once at a time."""
    registered = queue.task(name=name, queue=SCHEDULE_QUEUE, queueing_lock=name, pass_context=True)(
        task
    )
    queue.periodic(cron=cron, periodic_id=name)(registered)


async def work(services: Services, *, burst: bool = False, signals: bool = True) -> int:
    """Requeue what a crashed worker left, then work the queues (until stopped, or until
    they are empty with ``burst``). Returns how many stalled jobs were requeued."""
    stalled = services.settings.worker_stalled_seconds
    settings = services.settings
    queue = build_queue_app(
        services.database.url, settings.schedule_tick_cron, settings.experiment_tick_cron
    )
    async with queue.open_async():
        recovered = await tasks.retry_stalled(queue, stalled)
        if recovered:
            logger.warning("requeued %d job(s) of a crashed worker", recovered)
        await queue.run_worker_async(
            queues=list(QUEUES),
            wait=not burst,
            install_signal_handlers=signals,
            update_heartbeat_interval=max(stalled / 4, 0.5),
            stalled_worker_timeout=stalled,
            additional_context={tasks.SERVICES: services},
        )
    return recovered
