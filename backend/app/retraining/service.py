"""Requesting a retraining run and following it: what the routes and the commands share."""

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts.service import Alerts, alert_quality_drop
from app.core.config import Settings
from app.core.errors import NotFoundError
from app.db.database import Database
from app.db.models import RetrainingRun, RetrainingStatus, TrainingDataset
from app.retraining.decision import RetrainingCheck, decide_retraining, queue_decided, queue_run
from app.retraining.queue import enqueue_retraining


class RetrainingRunNotFoundError(NotFoundError):
    def __init__(self, run_id: int) -> None:
        super().__init__(f"Переобучение {run_id} не найдено")


class TrainingDatasetNotFoundError(NotFoundError):
    def __init__(self, dataset_id: int) -> None:
        super().__init__(f"Выгрузка {dataset_id} не найдена")


def request_run(database: Database, reasons: list[str]) -> RetrainingRun:
    """Queue a run whatever the thresholds say (the open one when there is one), committed
    before the job is deferred, so the worker always finds the row it is given."""
    with database.transaction() as session:
        run, created = queue_run(session, reasons)
    # A run already being worked on has its job; one still queued gets its job again (the
    # queue keeps one per run while it waits, and a job for a run that ended does nothing).
    if created or run.status == RetrainingStatus.QUEUED:
        enqueue_retraining(database.url, run.id)
    return run


def check_and_queue(
    database: Database,
    settings: Settings,
    alerts: Alerts,
    *,
    queue: bool = True,
    fresh_data_only: bool = False,
) -> RetrainingCheck:
    """The one scheduled entry point (``check_retraining``, the schedule): decide, queue the
    run in the same transaction, commit, then hand its job to the worker (so the worker
    always finds the row) and tell operators when quality dropped. ``queue=False`` only
    decides (``--no-enqueue``); ``fresh_data_only`` between two evaluations, which is not a
    quality drop and raises no alert."""
    with database.transaction() as session:
        check = decide_retraining(session, settings, fresh_data_only=fresh_data_only)
        if queue:
            queue_decided(session, check)
        elif check.ready_to_queue:
            check.notes.append("retraining needed; not queued (--no-enqueue)")
    if queue and check.run_id is not None:  # idempotent: a queued run's job is not doubled
        enqueue_retraining(database.url, check.run_id)
    if check.decision.required and not fresh_data_only:
        alert_quality_drop(alerts, check.decision.reasons, check.as_dict())
    return check


def recent_runs(session: Session, limit: int) -> list[RetrainingRun]:
    return list(
        session.scalars(select(RetrainingRun).order_by(RetrainingRun.id.desc()).limit(limit))
    )


def get_run(session: Session, run_id: int) -> RetrainingRun:
    run = session.get(RetrainingRun, run_id)
    if run is None:
        raise RetrainingRunNotFoundError(run_id)
    return run


def training_datasets(session: Session) -> list[TrainingDataset]:
    return list(session.scalars(select(TrainingDataset).order_by(TrainingDataset.id.desc())))


def dataset_file(session: Session, dataset_id: int) -> Path:
    """The export's JSONL file; 404 when the row or the file is gone."""
    row = session.get(TrainingDataset, dataset_id)
    if row is None:
        raise TrainingDatasetNotFoundError(dataset_id)
    path = Path(row.path)
    if not path.is_file():
        raise NotFoundError(f"Файл выгрузки {dataset_id} больше не существует: {path.name}")
    return path
