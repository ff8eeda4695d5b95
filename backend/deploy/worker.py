"""The job worker: retraining runs and the built-in schedule (``app/retraining/queue.py``).

    python -m deploy.worker            # run until stopped (SIGINT/SIGTERM)
    python -m deploy.worker --burst    # run what is queued now, then exit
    python -m deploy.worker --tick     # run the schedule's check once, then exit

It uses the same database as the service (the embedded one when ``DATABASE_URL`` is unset)
and first requeues jobs a crashed worker left behind.
"""

import asyncio

import typer

from app.core.config import get_settings
from app.main import configure_logging


def main(
    burst: bool = typer.Option(False, help="Run the queued jobs, then exit"),
    tick: bool = typer.Option(False, help="Run the schedule's check once, then exit"),
) -> None:
    """Work the retraining queue and run the evaluation schedule."""
    from app.retraining import queue

    settings = get_settings()
    configure_logging(settings)
    services = queue.worker_services()
    if tick:
        typer.echo(queue.run_schedule(services))
        return
    stalled = settings.worker_stalled_seconds

    async def work() -> None:
        async with queue.app.open_async():
            recovered = await queue.retry_stalled(queue.app, stalled)
            if recovered:
                typer.echo(f"requeued {recovered} job(s) of a crashed worker")
            await queue.app.run_worker_async(
                queues=queue.QUEUES,
                wait=not burst,
                update_heartbeat_interval=max(stalled / 4, 0.5),
                stalled_worker_timeout=stalled,
            )

    queue.use_database(services.database.url)
    try:
        asyncio.run(work())
    finally:
        services.close()


if __name__ == "__main__":
    typer.run(main)
