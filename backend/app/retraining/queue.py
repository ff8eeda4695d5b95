"""The Postgres-backed job queue (procrastinate): retraining jobs and the built-in schedule.

Tasks:

* ``retrain(run_id)`` — one retraining run (``app.retraining.job``); all share the
  queue lock ``retraining`` so two never run together, and a run is queued at most once.
* ``schedule_tick`` — hourly: when the last evaluation is ``EVALUATION_SCHEDULE_DAYS`` old,
  evaluate the model, then check the retraining thresholds and queue a run when needed.
  This is the crontab schedule for deployments without crontab (one container).
* ``retry_stalled_jobs`` — every minute: a job whose worker stopped sending heartbeats for
  ``WORKER_STALLED_SECONDS`` (it crashed or was killed) is put back in the queue.

The worker: ``python -m deploy.worker`` (or ``RUN_WORKER_IN_SERVICE=true`` in the service).
"""

import logging
import threading
from datetime import UTC, datetime, timedelta

import procrastinate
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.core.config import Settings, get_settings

logger = logging.getLogger(__name__)

RETRAINING_QUEUE = "retraining"
RETRAINING_LOCK = "retraining"
RETRAIN_TASK = "retrain"
SCHEDULE_QUEUE = "schedule"
QUEUES = [RETRAINING_QUEUE, SCHEDULE_QUEUE]

app = procrastinate.App(connector=procrastinate.PsycopgConnector(), import_paths=[__name__])

_services = None
_configured_url: str | None = None
_configure_lock = threading.Lock()


def bind_services(services) -> None:
    """The worker inside the service shares the service's models, database and settings."""
    global _services
    _services = services


def worker_services():
    """Services of this worker process, built once (an embedder and maybe a local model)."""
    global _services
    if _services is None:
        from app.container import build_services

        _services = build_services(get_settings())
    return _services


def libpq_url(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(False)


def use_database(database_url: str) -> procrastinate.App:
    """Point this process's queue app at the service's database (embedded or
    ``DATABASE_URL``, known only once the settings are read and the server is up). A process
    works with one database; the app is configured once, before it is opened."""
    global _configured_url
    with _configure_lock:
        if _configured_url != database_url:
            connector = procrastinate.PsycopgConnector(conninfo=libpq_url(database_url))
            app.connector = connector  # what procrastinate's replace_connector swaps
            app.job_manager.connector = connector
            _configured_url = database_url
    return app


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


@app.task(
    name=RETRAIN_TASK,
    queue=RETRAINING_QUEUE,
    lock=RETRAINING_LOCK,
    retry=procrastinate.RetryStrategy(max_attempts=2, wait=30),
)
def retrain(run_id: int) -> str:
    from app.retraining.job import RetrainingJob

    return RetrainingJob(worker_services()).run(run_id)


def evaluation_due(services, now: datetime) -> bool:
    from app.db.models import ModelMetrics

    with services.database.session() as session:
        last = session.scalar(select(func.max(ModelMetrics.created_at)))
    return last is None or now - last >= timedelta(days=services.settings.evaluation_schedule_days)


def run_schedule(services, now: datetime | None = None) -> dict:
    """What one tick does; also callable directly (tests, ``deploy.worker --tick``)."""
    from app.alerts.service import alert_quality_drop
    from app.quality.evaluation import ModelEvaluator
    from app.retraining.decision import check_retraining

    now = now or datetime.now(UTC)
    if not evaluation_due(services, now):
        return {"evaluated": False}
    settings: Settings = services.settings
    evaluation = ModelEvaluator(services).evaluate(settings.evaluation_schedule_days, now=now)
    with services.database.session() as session:
        check = check_retraining(session, settings, enqueue=True)
        session.commit()
    if check.decision.required:
        alert_quality_drop(services.database, settings, check.decision.reasons, check.as_dict())
    if check.run_id is not None:  # idempotent: a run already queued is not queued twice
        enqueue_retraining(services.database.url, check.run_id)
    return {
        "evaluated": True,
        "model_metrics_id": evaluation.model_metrics_id,
        "retraining_run_id": check.run_id if check.run_created else None,
    }


@app.periodic(cron="0 * * * *", periodic_id="schedule_tick")
@app.task(name="schedule_tick", queue=SCHEDULE_QUEUE, queueing_lock="schedule_tick")
def schedule_tick(timestamp: int) -> dict:
    return run_schedule(worker_services(), datetime.fromtimestamp(timestamp, UTC))


@app.periodic(cron="* * * * *", periodic_id="retry_stalled_jobs")
@app.task(name="retry_stalled_jobs", queue=SCHEDULE_QUEUE, queueing_lock="retry_stalled_jobs")
async def retry_stalled_jobs(timestamp: int) -> int:
    return await retry_stalled(app, get_settings().worker_stalled_seconds)


async def retry_stalled(queue: procrastinate.App, stalled_seconds: float) -> int:
    """Requeue jobs whose worker stopped sending heartbeats: it crashed mid-job."""
    stalled = await queue.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds)
    count = 0
    for job in stalled:
        logger.warning("job %s (%s) lost its worker; retrying it", job.id, job.task_name)
        await queue.job_manager.retry_job(job)
        count += 1
    return count
