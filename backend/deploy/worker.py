"""The job worker: retraining runs and the built-in schedule (``worker/``).

    python -m deploy.worker            # run until stopped (SIGINT/SIGTERM)
    python -m deploy.worker --burst    # run what is queued now, then exit
    python -m deploy.worker --tick     # run the schedule's check once, then exit

It uses the same database as the service (the embedded one when ``DATABASE_URL`` is unset)
and first requeues jobs a crashed worker left behind.
"""

import asyncio
import os

import typer

from app.container import build_services
from app.core.config import get_settings
from app.core.logging import configure_logging
from app.retraining.queue import PARENT_PID_VARIABLE
from worker.runner import die_with_parent, work
from worker.schedule import run_schedule


def main(
    burst: bool = typer.Option(False, help="Run the queued jobs, then exit"),
    tick: bool = typer.Option(False, help="Run the schedule's check once, then exit"),
) -> None:
    """Work the retraining queue and run the evaluation schedule."""
    parent = os.environ.get(PARENT_PID_VARIABLE)
    if parent:
        die_with_parent(int(parent))
    settings = get_settings()
    configure_logging(settings)
    services = build_services(settings)
    try:
        if tick:
            typer.echo(run_schedule(services))
            return
        recovered = asyncio.run(work(services, burst=burst))
        if recovered:
            typer.echo(f"requeued {recovered} job(s) of a crashed worker")
    finally:
        services.close()


if __name__ == "__main__":
    typer.run(main)
