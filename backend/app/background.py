"""What the service runs beside answering: storing the question vectors an embedder failure
left out, following the model registry, and optionally the job worker itself
(``RUN_WORKER_IN_SERVICE``) for deployments that are one container."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool

logger = logging.getLogger(__name__)


async def follow_registry(services, every_seconds: float) -> None:
    """Load the active version when a worker (or another replica) promoted or rolled back."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await run_in_threadpool(services.local_models.sync_with_registry)
        except Exception:  # a database blip must not end the loop
            logger.exception("could not check the model registry")


async def backfill_embeddings(services, every_seconds: float) -> None:
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


async def run_worker(services) -> None:
    from app.retraining import queue as job_queue

    job_queue.bind_services(services)
    stalled = services.settings.worker_stalled_seconds
    queue = job_queue.use_database(services.database.url)
    try:
        async with queue.open_async():
            await job_queue.retry_stalled(queue, stalled)
            await queue.run_worker_async(
                queues=job_queue.QUEUES,
                install_signal_handlers=False,  # the server owns the signals
                update_heartbeat_interval=max(stalled / 4, 0.5),
                stalled_worker_timeout=stalled,
            )
    finally:
        job_queue.bind_services(None)  # the services close with the app


@contextlib.asynccontextmanager
async def background_work(services) -> AsyncIterator[list[asyncio.Task]]:
    settings = services.settings
    tasks = []
    if settings.embedding_backfill_seconds > 0:
        every = settings.embedding_backfill_seconds
        tasks.append(asyncio.create_task(backfill_embeddings(services, every)))
    if settings.use_local_model and settings.model_sync_seconds > 0:
        tasks.append(asyncio.create_task(follow_registry(services, settings.model_sync_seconds)))
    if settings.run_worker_in_service:
        tasks.append(asyncio.create_task(run_worker(services), name="job-worker"))
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
