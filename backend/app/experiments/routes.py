"""A/B experiments and canaries for operators: create (409 while one of the kind is open),
list (CSV too), look at one with its history, pause, resume, stop."""

from typing import Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from app.access.deps import LoggedInOperatorDep, OperatorDep
from app.api.csv_export import csv_response
from app.api.deps import RowId, SessionDep, SettingsDep
from app.api.schemas import OPERATOR_ERRORS, error_responses
from app.db.models import ExperimentLook, ExperimentStatus
from app.experiments.deps import ExperimentsDep
from app.experiments.schemas import ExperimentEntry, ExperimentRequest, LookEntry, SettingEntry
from app.experiments.service import EXPERIMENT_SETTINGS, ArmSpec

#: The per-arm figures the experiments CSV carries.
CSV_FIGURES = (
    "clients", "mean_rating", "negative_share", "p_value", "satisfaction",
    "implicit_satisfaction", "paid_cost_per_answer_usd", "p95_latency_s", "answers",
)  # fmt: skip

router = APIRouter(
    prefix="/api/voice/experiments",
    tags=["operator"],
    dependencies=[OperatorDep],
    responses=OPERATOR_ERRORS,
)


@router.post(
    "",
    status_code=201,
    response_model=ExperimentEntry,
    responses=error_responses(409),
    summary="Начать эксперимент",
)
def create_experiment(
    body: ExperimentRequest,
    session: SessionDep,
    experiments: ExperimentsDep,
    who: LoggedInOperatorDep,
) -> ExperimentEntry:
    """One open (running or paused) experiment per kind: another gets 409."""
    arms = [ArmSpec(a.name, a.share, a.control, a.model_version_id, a.settings) for a in body.arms]
    experiment = experiments.create(
        session, body.name, body.kind, arms, created_by=who or "ключ администратора"
    )
    return ExperimentEntry.model_validate(experiment)


@router.get("", response_model=list[ExperimentEntry], summary="Эксперименты")
def list_experiments(
    session: SessionDep,
    experiments: ExperimentsDep,
    format: Literal["json", "csv"] = Query("json", description="csv — скачать таблицей"),
) -> list[ExperimentEntry]:
    entries = [ExperimentEntry.model_validate(e) for e in experiments.listing(session)]
    if format == "csv":
        return csv_response([_csv_row(e, arm) for e in entries for arm in _arm_rows(e)],
                            "experiments.csv")  # fmt: skip
    return entries


def _arm_rows(entry: ExperimentEntry) -> list[dict]:
    figures = {a["arm"]: a for a in (entry.decision or {}).get("arms", [])}
    return [arm.model_dump() | {"figures": figures.get(arm.name, {})} for arm in entry.arms]


def _csv_row(entry: ExperimentEntry, arm: dict) -> dict:
    figures = arm.pop("figures")
    return {
        "experiment_id": entry.id, "experiment": entry.name, "kind": entry.kind,
        "status": entry.status, "winner": entry.winner,
        "decision": (entry.decision or {}).get("reason"),
        "arm": arm["name"], "share": arm["share"], "control": arm["is_control"],
        "model_version_id": arm["model_version_id"], "settings": arm["settings"],
    } | {name: figures.get(name) for name in CSV_FIGURES}  # fmt: skip


@router.get("/settings", response_model=list[SettingEntry], summary="Что можно сравнивать")
def experiment_settings(settings: SettingsDep) -> list[SettingEntry]:
    """The settings a configuration experiment may vary, with their values now."""
    return [SettingEntry(name=name, current=getattr(settings, name.lower()))
            for name in EXPERIMENT_SETTINGS]  # fmt: skip


@router.get("/{experiment_id}", response_model=ExperimentEntry, summary="Эксперимент")
def get_experiment(experiment_id: RowId, session: SessionDep, experiments: ExperimentsDep):
    return ExperimentEntry.model_validate(experiments.get(session, experiment_id))


@router.get("/{experiment_id}/looks", response_model=list[LookEntry], summary="Решение во времени")
def experiment_looks(
    experiment_id: RowId,
    session: SessionDep,
    experiments: ExperimentsDep,
    format: Literal["json", "csv"] = Query("json"),
) -> list[LookEntry]:
    """Every look of the decision, oldest first: per arm clients, means, p-values."""
    experiments.get(session, experiment_id)
    looks = session.scalars(
        select(ExperimentLook)
        .where(ExperimentLook.experiment_id == experiment_id)
        .order_by(ExperimentLook.id)
    ).all()
    entries = [LookEntry.model_validate(look) for look in looks]
    if format == "csv":
        rows = [{"at": e.created_at.isoformat(), "outcome": e.outcome} | _look_arm(a)
                for e in entries for a in e.arms]  # fmt: skip
        return csv_response(rows, f"experiment-{experiment_id}-looks.csv")
    return entries


def _look_arm(arm: dict) -> dict:
    return {key: arm.get(key) for key in ("arm", "clients", "mean_rating", "negative_share",
                                          "p_value", "guard_p_value")}  # fmt: skip


def _status_route(status: ExperimentStatus, path: str, summary: str):
    @router.post(
        f"/{{experiment_id}}/{path}",
        response_model=ExperimentEntry,
        responses=error_responses(409),
        summary=summary,
        name=f"{path}_experiment",
    )
    def change(experiment_id: RowId, session: SessionDep, experiments: ExperimentsDep):
        experiment = experiments.set_status(session, experiment_id, status)
        return ExperimentEntry.model_validate(experiment)

    return change


pause_experiment = _status_route(ExperimentStatus.PAUSED, "pause", "Приостановить эксперимент")
resume_experiment = _status_route(ExperimentStatus.RUNNING, "resume", "Продолжить эксперимент")
stop_experiment = _status_route(ExperimentStatus.STOPPED, "stop", "Остановить эксперимент")
