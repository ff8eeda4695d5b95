"""One retraining run: export → fine-tune → grade on the golden set → promote or reject.

Runs are rows of ``retraining_runs``; the job moves one through its steps, writing the step
and a log line at each, so an operator can follow it (``GET /api/voice/retraining/runs/{id}``).

* **One at a time**: the job holds a Postgres advisory lock for its whole length, whatever
  started it (the queue also gives retraining jobs one lock).
* **Idempotent**: a run that already ended is left as it is; a run found ``running`` (its
  worker crashed) starts again from the export — every attempt writes a new dataset and a
  new candidate, nothing is half-reused.
* **Retried**: an error is logged on the run and raised to the queue, which retries; after
  ``MAX_ATTEMPTS`` the run is ``failed`` and an alert says so. The active model is never
  touched by a run that did not pass the gate.
"""

import logging
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, literal, select, text, update
from sqlalchemy.dialects.postgresql import JSONB

from app.alerts.service import Alerts
from app.container import Services
from app.core.errors import ConflictError
from app.db.models import (
    ENDED_RETRAINING_STATUSES,
    ExperimentKind,
    ModelStatus,
    ModelVersion,
    RetrainingRun,
    RetrainingStatus,
)
from app.experiments.service import ArmSpec, Experiments
from app.model_versions.ctranslate2_conversion import convert_version
from app.model_versions.engines import load_local_provider
from app.model_versions.service import mark_active
from app.quality.promotion import promotion_gate
from training.exporting import ExportOptions, export
from training.fine_tuning import FineTuneOptions, fine_tune, register

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
#: Arbitrary constant naming the advisory lock held while a retraining runs.
RETRAINING_JOB_LOCK = 7_204_002
ENDED = ENDED_RETRAINING_STATUSES
#: How far back the export reaches: everything approved still worth learning from.
EXPORT_DAYS_BACK = 365


class RetrainingJob:
    def __init__(self, services: Services, alerts: Alerts | None = None) -> None:
        self.services = services
        self.settings = services.settings
        self.database = services.database
        self.alerts = alerts or services.alerts

    def run(self, run_id: int) -> str:
        """Carry the run to its end; returns its final status."""
        with self.database.engine.connect() as lock_connection:
            lock_connection.execute(
                text("SELECT pg_advisory_lock(:key)"), {"key": RETRAINING_JOB_LOCK}
            )
            try:
                return self._run_locked(run_id)
            finally:
                lock_connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": RETRAINING_JOB_LOCK}
                )
                lock_connection.commit()

    def _run_locked(self, run_id: int) -> str:
        with self.database.transaction() as session:
            run = session.get(RetrainingRun, run_id)
            if run is None:
                raise LookupError(f"retraining run {run_id} does not exist")
            if run.status in ENDED:
                return run.status
            run.status, run.started_at = RetrainingStatus.RUNNING, datetime.now(UTC)
            run.attempts += 1
            attempt = run.attempts
        self._log(run_id, "start", f"attempt {attempt} of {MAX_ATTEMPTS}")
        if attempt == 1:
            self.alerts.raise_alert(
                "retraining_started", f"Переобучение #{run_id} началось", {"run_id": run_id}
            )
        try:
            return self._steps(run_id)
        except Exception as error:
            final = attempt >= MAX_ATTEMPTS
            self._log(run_id, "error", f"{type(error).__name__}: {error}")
            self._set(run_id, status=RetrainingStatus.FAILED if final else RetrainingStatus.QUEUED,
                      finished_at=datetime.now(UTC) if final else None)  # fmt: skip
            if final:
                self.alerts.raise_alert(
                    "retraining_failed",
                    f"Переобучение #{run_id} не удалось",
                    {"run_id": run_id, "error": str(error)},
                )
            raise

    def _steps(self, run_id: int) -> str:
        settings = self.settings
        work = Path(settings.data_dir)
        self._log(run_id, "export", "exporting approved dialogs")
        exported = export(
            self.database,
            settings,
            ExportOptions(
                out_dir=work / "training" / "data",
                min_rating=settings.min_rating_threshold,
                days_back=EXPORT_DAYS_BACK,
                max_per_session=settings.export_max_per_session,
                grounded=settings.retraining_grounded,
            ),
        )
        if not exported.samples:
            raise RuntimeError("the export has no training samples")
        self._log(run_id, "export", f"{exported.samples} samples in {exported.path}")

        options = FineTuneOptions(
            data=exported.path,
            model=settings.retraining_base_model,
            output=work / "models" / "fine_tuned",
            lora=settings.retraining_lora,
            epochs=settings.retraining_epochs,
            max_steps=settings.retraining_max_steps,
            learning_rate=settings.retraining_learning_rate,
            batch_size=settings.retraining_batch_size,
        )
        self._log(run_id, "fine_tune", f"fine-tuning {options.model}")
        result = fine_tune(options)
        self._convert(run_id, result)
        candidate_id = register(self.database, result, options)
        self._set(run_id, candidate_version_id=candidate_id)
        self._log(run_id, "fine_tune", f"candidate {result.version}: {result.metrics}")

        self._log(run_id, "evaluate", "grading the active model and the candidate")
        evaluator = self.services.evaluator
        with self.database.transaction() as session:
            size = evaluator.golden_set.ensure(session)
        if not size:
            return self._reject(run_id, candidate_id, ["no golden set to judge the candidate by"])
        self.services.local_models.sync_with_registry()
        active_chain = self.services.pipeline.providers()
        candidate = self._candidate_provider(result.path)
        behind = [p for p in active_chain if p.name != "local"]
        active_report = evaluator.score_golden(active_chain)
        graded = evaluator.grade_chain([candidate, *behind])
        gate = promotion_gate(
            graded.report, active_report, settings.promotion_margin, settings.promotion_tolerance,
            local_share=graded.local_share, cheaper_min_share=settings.promotion_cheaper_min_share,
        )  # fmt: skip
        self._log(run_id, "gate", "; ".join(gate.reasons))
        self._set(run_id, result={"gate": asdict(gate), "train": result.metrics})
        if not gate.promote:
            return self._reject(run_id, candidate_id, gate.reasons)
        if settings.canary_share > 0:
            return self._start_canary(run_id, candidate_id, result.version, gate.candidate)
        mark_active(self.database, candidate_id)
        self.services.local_models.sync_with_registry()
        self._set(
            run_id, status=RetrainingStatus.PROMOTED, step="done", finished_at=datetime.now(UTC)
        )
        self._log(run_id, "done", f"{result.version} promoted")
        details = {"run_id": run_id, "version": result.version, **gate.candidate}
        self.alerts.raise_alert("model_promoted", f"Модель {result.version} включена", details)
        self.alerts.raise_alert("retraining_finished", f"Переобучение #{run_id}: модель включена",
                                details)  # fmt: skip
        return RetrainingStatus.PROMOTED

    def _start_canary(self, run_id: int, candidate_id: int, version: str, figures: dict) -> str:
        """The candidate answers ``CANARY_SHARE`` of conversations, the active model (or no
        local model) the rest, until live ratings decide (``app/experiments/referee.py``).
        While another model experiment is open the candidate waits for an operator."""
        share = self.settings.canary_share
        experiments = Experiments(self.database)
        try:
            with self.database.transaction() as session:
                active = session.scalar(
                    select(ModelVersion.id).where(ModelVersion.status == ModelStatus.ACTIVE)
                )
                experiment = experiments.create(
                    session,
                    f"Канарейка {version}",
                    ExperimentKind.MODEL,
                    [
                        ArmSpec("текущая", 1 - share, True, active),
                        ArmSpec("кандидат", share, False, candidate_id),
                    ],
                    created_by=f"переобучение #{run_id}",
                    canary_version_id=candidate_id,
                )
                experiment_id = experiment.id
        except ConflictError as busy:
            self._log(run_id, "canary", f"gate passed, no canary: {busy}")
            self._set(run_id, status=RetrainingStatus.REJECTED, step="done",
                      finished_at=datetime.now(UTC))  # fmt: skip
            self.alerts.raise_alert(
                "model_rejected",
                f"Кандидат переобучения #{run_id} прошёл проверку, но канарейку не запустить",
                {"run_id": run_id, "version_id": candidate_id, "reason": str(busy)},
            )
            return RetrainingStatus.REJECTED
        self._set(
            run_id, status=RetrainingStatus.CANARY, step="done", finished_at=datetime.now(UTC)
        )
        self._log(run_id, "canary", f"{version}: canary experiment #{experiment_id} at {share:.0%}")
        details = {"run_id": run_id, "version": version, "experiment_id": experiment_id,
                   "share": share, **figures}  # fmt: skip
        self.alerts.raise_alert("canary_started", f"Канарейка {version}: {share:.0%} разговоров",
                                details)  # fmt: skip
        return RetrainingStatus.CANARY

    def _candidate_provider(self, path: Path):
        """The candidate as the service would serve it: same engine, same weights."""
        return load_local_provider(str(path), self.settings)

    def _convert(self, run_id: int, result) -> None:
        """Weights for the fast engine, made once here rather than on each replica's load."""
        if self.settings.local_inference_engine != "ctranslate2":
            return
        self._log(run_id, "convert", "converting the candidate for CTranslate2")
        manifest = convert_version(result.path)
        result.metrics["conversion_seconds"] = manifest["conversion_seconds"]
        self._log(run_id, "convert", f"{manifest['quantization']} weights in "
                  f"{manifest['conversion_seconds']} s")  # fmt: skip

    def _reject(self, run_id: int, candidate_id: int, reasons: list[str]) -> str:
        with self.database.transaction() as session:
            session.execute(
                update(ModelVersion)
                .where(
                    ModelVersion.id == candidate_id, ModelVersion.status == ModelStatus.CANDIDATE
                )
                .values(status=ModelStatus.REJECTED)
            )
        self._set(
            run_id, status=RetrainingStatus.REJECTED, step="done", finished_at=datetime.now(UTC)
        )
        self._log(run_id, "done", "candidate rejected; the active model stays")
        details = {"run_id": run_id, "reasons": reasons}
        self.alerts.raise_alert("model_rejected", f"Кандидат переобучения #{run_id} отклонён",
                                details)  # fmt: skip
        self.alerts.raise_alert("retraining_finished", f"Переобучение #{run_id}: кандидат отклонён",
                                details)  # fmt: skip
        return RetrainingStatus.REJECTED

    def _set(self, run_id: int, **values) -> None:
        with self.database.transaction() as session:
            session.execute(
                update(RetrainingRun).where(RetrainingRun.id == run_id).values(**values)
            )

    def _log(self, run_id: int, step: str, message: str) -> None:
        """Append a log line and move the step, in one statement (no read-modify-write)."""
        logger.info("retraining run %s [%s] %s", run_id, step, message)
        entry = [{"at": datetime.now(UTC).isoformat(), "step": step, "message": message}]
        with self.database.transaction() as session:
            session.execute(
                update(RetrainingRun)
                .where(RetrainingRun.id == run_id)
                .values(
                    step=step,
                    log=func.coalesce(RetrainingRun.log, literal([], JSONB)).op("||")(
                        literal(entry, JSONB)
                    ),
                )
            )
