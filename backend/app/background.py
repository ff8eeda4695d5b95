"""What the service runs beside answering: storing the question vectors an embedder failure
left out, following the model registry, and optionally the job worker as a child process
(``RUN_WORKER_IN_SERVICE``) for deployments that are one container."""

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool

from app.container import Services
from app.core.config import as_environment
from app.core.paths import BACKEND_DIR
from app.retraining.queue import PARENT_PID_VARIABLE

logger = logging.getLogger(__name__)


async def follow_registry(services: Services, every_seconds: float) -> None:
    """Load the active version when a worker (or another replica) promoted or rolled back."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await run_in_threadpool(services.local_models.sync_with_registry)
        except Exception:  # a database blip must not end the loop
            logger.exception("could not check the model registry")


async def backfill_embeddings(services: Services, every_seconds: float) -> None:
    """A question whose vector could not be computed or stored (the embedder failed, the
    database blinked) was still answered and logged; its vector is added here, so similar
    search and learning see it without anyone calling ``embeddings/update``."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            result = await run_in_threadpool(
                services.embeddings.backfill_missing, services.database, batch_size=100
            )
            if result.processed or result.errors:
                logger.info(
                    "embedding backfill: %d stored, %d failed", result.processed, result.errors
                )
        except Exception:
            logger.exception("embedding backfill failed; trying again later")


def start_worker_process(services: Services) -> subprocess.Popen:
    """``RUN_WORKER_IN_SERVICE``: the job worker as a child process on the service's
    database. A process, not a thread: a fine-tuning run holds the CPU and the GIL for
    minutes, and answering must not wait on it; the worker is also where the training
    library is loaded, which the service itself never imports. The child dies with the
    service (it is told the service's pid: ``WORKER_PARENT_PID``) and is stopped gracefully
    with it."""
    environment = os.environ | as_environment(services.settings)
    environment["DATABASE_URL"] = services.database.url
    environment[PARENT_PID_VARIABLE] = str(os.getpid())
    return subprocess.Popen([sys.executable, "-m", "deploy.worker"], cwd=BACKEND_DIR,
                            env=environment)  # fmt: skip


async def stop_worker_process(worker: subprocess.Popen, grace_seconds: float) -> None:
    """SIGTERM: the worker finishes its job step and stops; killed after the grace time
    (the job is then retried: its heartbeat stops)."""
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        await run_in_threadpool(worker.wait, grace_seconds)
    except subprocess.TimeoutExpired:
        logger.warning("job worker did not stop in %.0f s; killing it", grace_seconds)
        worker.kill()
        await run_in_threadpool(worker.wait)


@contextlib.asynccontextmanager
async def background_work(services: Services) -> AsyncIterator[list[asyncio.Task]]:
    settings = services.settings
    tasks = []
    if settings.embedding_backfill_seconds > 0:
        every = settings.embedding_backfill_seconds
        tasks.append(asyncio.create_task(backfill_embeddings(services, every)))
    if settings.use_local_model and settings.model_sync_seconds > 0:
        tasks.append(asyncio.create_task(follow_registry(services, settings.model_sync_seconds)))
    worker = start_worker_process(services) if settings.run_worker_in_service else None
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if worker is not None:
            await stop_worker_process(worker, settings.shutdown_grace_seconds + 10)
