"""Experiments as operators run them: create (one open experiment per kind), pause, resume,
stop; and, for answering, which arms a conversation is in right now.

The arms a replica serves come from the database, re-read at most every
``REFRESH_SECONDS``: an experiment created, paused or stopped through one replica (or
ended by the worker) reaches every replica within seconds, with one small query per
interval, not one per question.
"""

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.core.config import Settings
from app.core.errors import ConflictError, InvalidInputError, NotFoundError
from app.db.database import Database
from app.db.models import (
    OPEN_EXPERIMENT_STATUSES,
    Experiment,
    ExperimentAnswer,
    ExperimentArm,
    ExperimentKind,
    ExperimentStatus,
    ModelVersion,
)
from app.experiments.assignment import assign

REFRESH_SECONDS = 2.0
#: What a configuration experiment may vary, by the settings' own names and checks.
EXPERIMENT_SETTINGS = (
    "CACHE_ENABLED",
    "CACHE_MIN_MARGIN",
    "CACHE_MIN_SIMILARITY",
    "CACHE_MIN_ANSWER_RELEVANCE",
    "CONTEXT_TOKEN_BUDGET",
    "CONTEXT_EXAMPLES",
    "CONTEXT_KNOWLEDGE_ENTRIES",
    "KNOWLEDGE_MIN_SIMILARITY",
    "HISTORY_TURNS",
)


class ExperimentNotFoundError(NotFoundError):
    def __init__(self, experiment_id: int) -> None:
        super().__init__(f"Эксперимент {experiment_id} не найден")


@dataclass(frozen=True)
class ArmSpec:
    name: str
    share: float
    is_control: bool = False
    model_version_id: int | None = None
    settings: dict[str, Any] | None = None


@dataclass(frozen=True)
class ServingArm:
    """An arm as answering needs it."""

    id: int
    experiment_id: int
    kind: str
    name: str
    share: float
    model_version_id: int | None
    #: Settings field names (lower case) and values: ``Settings.model_copy(update=…)``.
    overrides: dict[str, Any] = field(default_factory=dict)
    is_control: bool = False
    #: Stopped by the guardrail: its conversations are answered (and counted) in the control.
    stopped: bool = False


def setting_overrides(values: dict[str, Any] | None) -> dict[str, Any]:
    """``{"CACHE_MIN_MARGIN": 0.3}`` checked by the setting's own type and bounds, as
    field names; InvalidInputError (422) names what is wrong."""
    overrides = {}
    for alias, value in (values or {}).items():
        if alias not in EXPERIMENT_SETTINGS:
            raise InvalidInputError(
                f"Настройку {alias} нельзя менять в эксперименте; можно: "
                + ", ".join(EXPERIMENT_SETTINGS)
            )
        name = alias.lower()
        info = Settings.model_fields[name]
        checked = TypeAdapter(
            Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        )
        try:
            overrides[name] = checked.validate_python(value)
        except ValidationError as error:
            problem = error.errors()[0]["msg"]
            raise InvalidInputError(
                f"{alias}: недопустимое значение {value!r} ({problem})"
            ) from None
    return overrides


def check_arms(session: Session, kind: ExperimentKind, arms: list[ArmSpec]) -> None:
    """What makes a set of arms an experiment; InvalidInputError (422) otherwise."""
    if len(arms) < 2:
        raise InvalidInputError("В эксперименте нужно не меньше двух вариантов")
    if sum(arm.is_control for arm in arms) != 1:
        raise InvalidInputError("Ровно один вариант должен быть контрольным (control: true)")
    if len({arm.name for arm in arms}) != len(arms):
        raise InvalidInputError("Названия вариантов должны различаться")
    if any(not arm.share > 0 for arm in arms):
        raise InvalidInputError("Доли трафика вариантов должны быть больше 0")
    for arm in arms:
        if kind == ExperimentKind.MODEL:
            if arm.settings:
                raise InvalidInputError("В эксперименте с моделями варианты различаются моделью")
            if arm.model_version_id is not None and not session.get(
                ModelVersion, arm.model_version_id
            ):
                raise NotFoundError(f"Версия модели {arm.model_version_id} не найдена")
        else:
            if arm.model_version_id is not None:
                raise InvalidInputError(
                    "В эксперименте с настройками варианты различаются настройками"
                )
            setting_overrides(arm.settings)


class Experiments:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._serving: tuple[float, list[list[ServingArm]]] = (float("-inf"), [])

    def create(
        self,
        session: Session,
        name: str,
        kind: ExperimentKind,
        arms: list[ArmSpec],
        *,
        created_by: str | None = None,
        canary_version_id: int | None = None,
    ) -> Experiment:
        check_arms(session, kind, arms)
        open_one = self.open_of_kind(session, kind)
        if open_one is not None:
            raise _busy(open_one)
        experiment = Experiment(
            name=name, kind=kind, status=ExperimentStatus.RUNNING, created_by=created_by,
            canary_version_id=canary_version_id,
        )  # fmt: skip
        total = sum(a.share for a in arms)  # shares are weights: stored as parts of 1
        experiment.arms = [
            ExperimentArm(name=a.name, share=a.share / total, is_control=a.is_control,
                          model_version_id=a.model_version_id, settings=a.settings or None)
            for a in arms
        ]  # fmt: skip
        session.add(experiment)
        try:
            session.flush()
        except IntegrityError:  # another replica opened one between the check and here
            session.rollback()
            raise ConflictError("Эксперимент этого вида уже идёт") from None
        self.forget()
        return experiment

    @staticmethod
    def open_of_kind(session: Session, kind: str) -> Experiment | None:
        return session.scalar(
            select(Experiment).where(
                Experiment.kind == kind, Experiment.status.in_(OPEN_EXPERIMENT_STATUSES)
            )
        )

    @staticmethod
    def get(session: Session, experiment_id: int) -> Experiment:
        experiment = session.get(Experiment, experiment_id, options=[selectinload(Experiment.arms)])
        if experiment is None:
            raise ExperimentNotFoundError(experiment_id)
        return experiment

    @staticmethod
    def listing(session: Session) -> list[Experiment]:
        """Running and paused first, then the finished ones, newest first."""
        rows = session.scalars(
            select(Experiment)
            .options(selectinload(Experiment.arms))
            .order_by(Experiment.stopped_at.is_not(None), Experiment.created_at.desc())
        )
        return list(rows)

    def set_status(
        self, session: Session, experiment_id: int, status: ExperimentStatus
    ) -> Experiment:
        """Pause, resume or stop. A stopped experiment stays stopped (409)."""
        experiment = self.get(session, experiment_id)
        if experiment.status == ExperimentStatus.STOPPED:
            raise ConflictError(f"Эксперимент {experiment_id} уже остановлен")
        experiment.status = status
        if status == ExperimentStatus.STOPPED:
            experiment.stopped_at = datetime.now(UTC)
        session.flush()
        self.forget()
        return experiment

    def end_canaries(self, session: Session, reason: str) -> list[int]:
        """An operator switched a model on by hand: an open canary no longer decides
        anything; it is stopped (no winner), its candidate left as it is."""
        open_canaries = session.scalars(
            select(Experiment).where(
                Experiment.canary_version_id.is_not(None),
                Experiment.status.in_(OPEN_EXPERIMENT_STATUSES),
            )
        ).all()
        for experiment in open_canaries:
            experiment.status, experiment.stopped_at = ExperimentStatus.STOPPED, datetime.now(UTC)
            experiment.decision = (experiment.decision or {}) | {"reason": reason}
        self.forget()
        return [experiment.id for experiment in open_canaries]

    def stop_canaries(self, reason: str) -> list[int]:
        """:meth:`end_canaries` in a transaction of its own (the model was already switched)."""
        with self.database.transaction() as session:
            return self.end_canaries(session, reason)

    # --- answering -------------------------------------------------------------------

    def forget(self) -> None:
        """Re-read the running experiments on the next question (after a change here)."""
        self._serving = (float("-inf"), [])

    def _running(self) -> list[list[ServingArm]]:
        loaded_at, running = self._serving
        if time.monotonic() - loaded_at < REFRESH_SECONDS:
            return running
        with self._lock:
            loaded_at, running = self._serving  # another thread may have just read them
            if time.monotonic() - loaded_at < REFRESH_SECONDS:
                return running
            return self._reload()

    def _reload(self) -> list[list[ServingArm]]:
        with self.database.session() as session:
            rows = session.scalars(
                select(Experiment)
                .options(selectinload(Experiment.arms))
                .where(Experiment.status == ExperimentStatus.RUNNING)
            ).all()
            running = [
                [
                    ServingArm(a.id, e.id, e.kind, a.name, a.share, a.model_version_id,
                               setting_overrides(a.settings), a.is_control,
                               a.stopped_reason is not None)
                    for a in e.arms
                ]
                for e in rows
            ]  # fmt: skip
            self._serving = (time.monotonic(), running)
        return running

    def arms_for(self, session_id: str) -> list[ServingArm]:
        """The arm of each running experiment this conversation is in (none, one, or one
        per kind). The slices never move while an experiment runs: a conversation whose
        arm was stopped is answered in the control, every other one stays where it was."""
        chosen = []
        for arms in self._running():
            shares = [(str(a.id), a.share) for a in arms]
            picked = next(a for a in arms if str(a.id) == assign(a.experiment_id, session_id,
                                                                shares))  # fmt: skip
            chosen.append(next(a for a in arms if a.is_control) if picked.stopped else picked)
        return chosen

    def record(self, log_id: int, arms: list[ServingArm]) -> None:
        """The answer ``log_id`` was given in ``arms`` (after the response)."""
        if not arms:
            return
        with self.database.transaction() as session:
            session.add_all(ExperimentAnswer(log_id=log_id, arm_id=arm.id) for arm in arms)


def _busy(experiment: Experiment) -> ConflictError:
    return ConflictError(
        f"Эксперимент этого вида уже идёт: №{experiment.id} «{experiment.name}» "
        f"({experiment.status}). Остановите его или дождитесь решения"
    )
