"""The tasks a worker runs. Each gets the worker's services from the job context
(``additional_context["services"]``, set by ``worker.runner``), never from a module global,
so a test or a second worker in one process can give them their own."""

import logging
from dataclasses import asdict
from datetime import UTC, datetime

import procrastinate
from procrastinate import JobContext

from app.container import Services
from app.experiments.referee import Referee
from worker.retraining_job import RetrainingJob
from worker.schedule import run_schedule

logger = logging.getLogger(__name__)

SERVICES = "services"


def services_of(context: JobContext) -> Services:
    return context.additional_context[SERVICES]


def retrain(context: JobContext, run_id: int) -> str:
    """One retraining run; all share the queue lock ``retraining`` so two never run
    together, and a run is queued at most once."""
    return RetrainingJob(services_of(context)).run(run_id)


def train_verifier(context: JobContext) -> dict:
    """One verifier training run (on demand): recorded, gated, switched in when it passes."""
    return asdict(services_of(context).verifier_trainer.train())


def schedule_tick(context: JobContext, timestamp: int) -> dict:
    """Hourly: evaluate when due, then check the retraining thresholds."""
    return run_schedule(services_of(context), datetime.fromtimestamp(timestamp, UTC))


def look_at_experiments(context: JobContext, timestamp: int) -> list[dict]:
    """Every minute: decide on the running experiments and canaries, and act."""
    services = services_of(context)
    return Referee(services.database, services.settings, services.alerts).look_at_running()


async def retry_stalled_jobs(context: JobContext, timestamp: int) -> int:
    """Every minute: requeue jobs whose worker stopped sending heartbeats."""
    return await retry_stalled(context.app, services_of(context).settings.worker_stalled_seconds)


async def retry_stalled(queue: procrastinate.App, stalled_seconds: float) -> int:
    """Requeue jobs whose worker stopped sending heartbeats: it crashed mid-job."""
    stalled = await queue.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds)
    count = 0
    for job in stalled:
        logger.warning("job %s (%s) lost its worker; retrying it", job.id, job.task_name)
        await queue.job_manager.retry_job(job)
        count += 1
    return count
