"""The retraining decision as ``check_retraining`` applies it: thresholds, then enough data.

Retraining is requested only when the quality rule says so (``learning_status``) *and* at
least ``RETRAINING_MIN_NEW_SAMPLES`` approved dialogs (rated ≥ ``MIN_RATING_THRESHOLD`` or
corrected, golden-set questions excluded) arrived since the last retraining was requested:
a new model trained on the same data would not be better. A request is a ``retraining_runs``
row in ``queued``; while one is queued or running, asking again returns that one.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.db.models import (
    OPEN_RETRAINING_STATUSES,
    AnswerSource,
    GoldenSetItem,
    RetrainingRun,
    RetrainingStatus,
    VoiceLog,
    approved_dialog,
)
from app.quality.metrics import PeriodMetrics
from app.quality.retraining_rule import RetrainingDecision, decide_now, fresh_data_decision

#: Arbitrary constant naming the advisory lock that serialises retraining requests.
RETRAINING_REQUEST_LOCK = 7_204_001


@dataclass
class RetrainingCheck:
    metrics: PeriodMetrics
    decision: RetrainingDecision
    new_samples: int
    since: datetime | None
    run_id: int | None = None
    run_created: bool = False
    #: Required, none open, enough new data: :func:`queue_decided` would queue a run.
    ready_to_queue: bool = False
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "requires_retraining": self.decision.required,
            "reasons": self.decision.reasons,
            "new_training_samples": self.new_samples,
            "new_samples_since": self.since.isoformat() if self.since else None,
            "retraining_run_id": self.run_id,
            "retraining_run_created": self.run_created,
            "notes": self.notes,
            "window_metrics": self.metrics.as_dict(),
        }


def new_training_samples(session: Session, settings: Settings, since: datetime | None) -> int:
    approved = approved_dialog(settings.min_rating_threshold)
    golden_logs = select(GoldenSetItem.source_log_id).where(
        GoldenSetItem.source_log_id.is_not(None)
    )
    query = (
        select(func.count())
        .select_from(VoiceLog)
        .where(
            approved,
            VoiceLog.answer_source != AnswerSource.FALLBACK,
            VoiceLog.id.not_in(golden_logs),
        )
    )
    if since is not None:
        query = query.where(VoiceLog.created_at > since)
    return session.scalar(query) or 0


def open_run(session: Session) -> RetrainingRun | None:
    return session.scalar(
        select(RetrainingRun)
        .where(RetrainingRun.status.in_(OPEN_RETRAINING_STATUSES))
        .order_by(RetrainingRun.id)
        .limit(1)
    )


def queue_run(session: Session, reasons: list[str]) -> tuple[RetrainingRun, bool]:
    """The one way a retraining run is requested (operators, ``check_retraining``, the
    schedule): under a transaction-scoped advisory lock, so concurrent requests queue one
    run; while one is queued or running, that one is returned. True when it was created."""
    session.execute(select(func.pg_advisory_xact_lock(RETRAINING_REQUEST_LOCK)))
    existing = open_run(session)
    if existing is not None:
        return existing, False
    run = RetrainingRun(status=RetrainingStatus.QUEUED, reasons=reasons, step="queued", log=[])
    session.add(run)
    session.flush()
    return run, True


def decide_retraining(
    session: Session, settings: Settings, *, fresh_data_only: bool = False
) -> RetrainingCheck:
    """Whether a run is needed, and whether one could be queued now; writes nothing.
    Quality first (the seed's rule), then fresh data (``RETRAINING_EVERY_NEW_SAMPLES``);
    ``fresh_data_only`` for the ticks between two evaluations."""
    metrics, decision = decide_now(session, settings)
    since = session.scalar(select(func.max(RetrainingRun.created_at)))
    new_samples = new_training_samples(session, settings, since)
    if fresh_data_only or not decision.required:
        fresh = fresh_data_decision(new_samples, settings)
        decision = fresh if fresh.required or fresh_data_only else decision
    check = RetrainingCheck(metrics, decision, new_samples, since)
    if not decision.required:
        return check
    existing = open_run(session)
    if existing is not None:
        check.run_id = existing.id
        check.notes.append(f"retraining run {existing.id} is already {existing.status}")
        return check
    if check.new_samples < settings.retraining_min_new_samples:
        check.notes.append(
            f"not enough new training data: {check.new_samples} approved dialogs < "
            f"{settings.retraining_min_new_samples}"
        )
        return check
    check.ready_to_queue = True
    return check


def queue_decided(session: Session, check: RetrainingCheck) -> None:
    """Queue the run ``check`` found needed (or take the one another request just opened)."""
    if not check.ready_to_queue:
        return
    run, created = queue_run(session, check.decision.reasons)
    check.run_id, check.run_created = run.id, created
