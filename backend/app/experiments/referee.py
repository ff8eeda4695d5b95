"""The worker's look at running experiments: measure every arm, decide, keep the look (the
dashboard's chart), and act — stop a harmful arm, end the experiment with its winner, and
for a canary promote the candidate for everyone or roll it back, with an alert either way.

Every look is kept, so how the evidence grew is visible afterwards; acting is idempotent
(an ended experiment is never looked at again), so two workers looking at once change
nothing twice: the experiment row is locked for the look.
"""

import logging
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from app.alerts.service import Alerts
from app.core.config import Settings
from app.db.database import Database
from app.db.models import (
    Experiment,
    ExperimentLook,
    ExperimentStatus,
    ModelStatus,
    ModelVersion,
    RetrainingRun,
    RetrainingStatus,
)
from app.experiments.decision import Decision, DecisionRules, Outcome, decide
from app.experiments.measures import arm_figures, arm_outcomes
from app.model_versions.service import mark_active

logger = logging.getLogger(__name__)


def rules_of(settings: Settings) -> DecisionRules:
    return DecisionRules(
        min_clients_per_arm=settings.experiment_min_clients,
        max_clients_per_arm=settings.experiment_max_clients,
    )


def look_record(decision: Decision, figures: dict[str, dict]) -> list[dict]:
    """Per arm: the decision's summary (clients, means, tests) and the operators' figures."""
    return [
        asdict(summary)
        | {
            "p_value": _p(summary.rating_vs_control),
            "guard_p_value": _p(summary.negative_vs_control),
        }
        | figures.get(summary.arm, {})
        for summary in decision.arms
    ]


def _p(comparison) -> float | None:
    return None if comparison is None else round(comparison.p_value, 6)


class Referee:
    def __init__(self, database: Database, settings: Settings, alerts: Alerts) -> None:
        self.database = database
        self.settings = settings
        self.alerts = alerts

    def look_at_running(self) -> list[dict]:
        """One look at every running experiment; what was decided, for the job's result."""
        with self.database.session() as session:
            ids = session.scalars(
                select(Experiment.id).where(Experiment.status == ExperimentStatus.RUNNING)
            ).all()
        return [self.look(experiment_id) for experiment_id in ids]

    def look(self, experiment_id: int) -> dict:
        with self.database.transaction() as session:
            experiment = session.scalar(
                select(Experiment)
                .options(selectinload(Experiment.arms))
                .where(Experiment.id == experiment_id)
                .with_for_update(of=Experiment)
            )
            if experiment is None or experiment.status != ExperimentStatus.RUNNING:
                return {"experiment_id": experiment_id, "outcome": "not running"}
            decision = decide(arm_outcomes(session, experiment), rules_of(self.settings))
            arms = look_record(decision, arm_figures(session, experiment))
            session.add(ExperimentLook(experiment_id=experiment.id, outcome=decision.outcome,
                                       arms=arms))  # fmt: skip
            experiment.decision = {
                "outcome": decision.outcome,
                "arm": decision.arm,
                "reason": decision.reason,
                "decided_at": datetime.now(UTC).isoformat(),
                "arms": arms,
            }
            alerts = self._act(session, experiment, decision)
            promote = self._promoted_canary(experiment)
        if promote is not None:  # after the look is committed, as an operator's switch is
            mark_active(self.database, promote)
        for kind, title, details in alerts:
            self.alerts.raise_alert(kind, title, details)
        return {"experiment_id": experiment_id, "outcome": decision.outcome, "arm": decision.arm}

    def _act(self, session: Session, experiment: Experiment, decision: Decision) -> list:
        """Change the experiment as decided; the alerts to raise once it is committed."""
        details = {"experiment_id": experiment.id, "reason": decision.reason}
        if decision.outcome == Outcome.CONTINUE:
            return []
        if decision.outcome == Outcome.STOP_ARM:
            arm = next(a for a in experiment.arms if a.name == decision.arm)
            arm.stopped_reason = decision.reason  # its slice goes to the control
            remaining = [a for a in experiment.arms if a.stopped_reason is None]
            if not self._is_canary_arm(experiment, arm) and len(remaining) > 1:
                return [("experiment_arm_stopped",
                         f"Эксперимент «{experiment.name}»: вариант «{arm.name}» остановлен",
                         details)]  # fmt: skip
            winner = next(a.name for a in experiment.arms if a.is_control)
            return self._end(session, experiment, winner, details)
        winner = decision.arm if decision.outcome == Outcome.WINNER else None
        return self._end(session, experiment, winner, details)

    def _promoted_canary(self, experiment: Experiment) -> int | None:
        """The candidate to switch on for everyone: its canary won."""
        if experiment.status != ExperimentStatus.STOPPED or experiment.winner is None:
            return None
        won = next(a for a in experiment.arms if a.name == experiment.winner)
        return experiment.canary_version_id if self._is_canary_arm(experiment, won) else None

    @staticmethod
    def _is_canary_arm(experiment: Experiment, arm) -> bool:
        return experiment.canary_version_id is not None and (
            arm.model_version_id == experiment.canary_version_id
        )

    def _end(self, session: Session, experiment: Experiment, winner: str | None, details) -> list:
        experiment.status, experiment.winner = ExperimentStatus.STOPPED, winner
        experiment.stopped_at = datetime.now(UTC)
        if experiment.canary_version_id is None:
            title = f"Эксперимент «{experiment.name}» завершён: " + (
                f"победил «{winner}»" if winner else "разницы нет"
            )
            return [("experiment_decided", title, details | {"winner": winner})]
        canary = next((a for a in experiment.arms if self._is_canary_arm(experiment, a)), None)
        promoted = canary is not None and winner == canary.name
        return [self._finish_canary(session, experiment, promoted, details)]

    def _finish_canary(self, session: Session, experiment: Experiment, promoted: bool, details):
        version_id = experiment.canary_version_id
        version = session.get(ModelVersion, version_id)
        name = version.name if version else str(version_id)
        run_status = RetrainingStatus.PROMOTED if promoted else RetrainingStatus.REJECTED
        session.execute(
            update(RetrainingRun)
            .where(RetrainingRun.candidate_version_id == version_id,
                   RetrainingRun.status == RetrainingStatus.CANARY)
            .values(status=run_status, finished_at=datetime.now(UTC))
        )  # fmt: skip
        details = details | {"version_id": version_id, "version": name}
        if promoted:
            logger.info("canary %s promoted: %s", name, details["reason"])
            return ("canary_promoted", f"Канарейка {name} включена для всех", details)
        if version is not None and version.status == ModelStatus.CANDIDATE:
            version.status = ModelStatus.REJECTED
        logger.info("canary %s rolled back: %s", name, details["reason"])
        return ("canary_rolled_back", f"Канарейка {name} откатена", details)
