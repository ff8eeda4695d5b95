"""The built-in schedule, for deployments without crontab (one container): on every tick,
mark the conversations abandoned after an answer no model could give and delete the
recordings of spoken questions past ``AUDIO_RETENTION_DAYS``, idle rate-limit buckets and
the matcher's change log past a day; train a verifier version when the newest is
``VERIFIER_RETRAIN_HOURS`` old; when the last
evaluation is ``EVALUATION_SCHEDULE_DAYS`` old, evaluate the model, then check the
retraining thresholds and queue a run when needed; on the ticks between, with a local model,
queue a run when enough fresh approved data arrived (``RETRAINING_EVERY_NEW_SAMPLES``)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.access.rate_limit import forget_idle_buckets
from app.container import Services
from app.db.models import ModelMetrics
from app.feedback.abandonment import mark_abandoned
from app.retraining.service import check_and_queue
from app.verified_answers.index import forget_old_changes


def evaluation_due(services: Services, now: datetime) -> bool:
    with services.database.session() as session:
        last = session.scalar(select(func.max(ModelMetrics.created_at)))
    return last is None or now - last >= timedelta(days=services.settings.evaluation_schedule_days)


def run_schedule(services: Services, now: datetime | None = None) -> dict:
    """What one tick does; also callable directly (tests, ``deploy.worker --tick``)."""
    now = now or datetime.now(UTC)
    settings = services.settings
    with services.database.transaction() as session:
        abandoned = mark_abandoned(
            session, now, timedelta(minutes=settings.abandoned_after_minutes)
        )
        purged = services.recordings.purge_expired(session, now)
        forget_idle_buckets(session)
        forget_old_changes(session)
    housekeeping = {
        "abandoned_marked": abandoned,
        "recordings_purged": purged,
        "verifier": train_verifier_when_due(services, now),
    }
    if not evaluation_due(services, now):
        return {
            "evaluated": False,
            "retraining_run_id": queue_for_fresh_data(services),
            **housekeeping,
        }
    evaluation = services.evaluator.evaluate(settings.evaluation_schedule_days, now=now)
    check = check_and_queue(services.database, settings, services.alerts)
    return {
        "evaluated": True,
        "model_metrics_id": evaluation.model_metrics_id,
        "retraining_run_id": check.run_id if check.run_created else None,
        **housekeeping,
    }


def queue_for_fresh_data(services: Services) -> int | None:
    """Between evaluations: a run when enough new approved dialogs arrived for the local
    model (``RETRAINING_EVERY_NEW_SAMPLES``); the id of a run it queued, else None."""
    settings = services.settings
    if not (settings.use_local_model and settings.retraining_every_new_samples):
        return None
    check = check_and_queue(services.database, settings, services.alerts, fresh_data_only=True)
    return check.run_id if check.run_created else None


def train_verifier_when_due(services: Services, now: datetime) -> str | None:
    """A verifier training run when the newest version is ``VERIFIER_RETRAIN_HOURS`` old
    (or there is none); what came of it, or None when none was due."""
    if not services.settings.cache_verifier_enabled or not services.verifier_trainer.due(now):
        return None
    report = services.verifier_trainer.train()
    return f"{report.status}: {report.reason}"
