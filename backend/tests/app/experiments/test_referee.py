"""The worker's look at running experiments: residents' ratings in each arm decide; a canary
is promoted for everyone or rolled back, with an alert either way; a harmful arm is stopped
by the guardrail; one client with many sessions counts once."""

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.container import build_services
from app.db.models import (
    Alert,
    Experiment,
    ExperimentAnswer,
    ExperimentArm,
    ExperimentKind,
    ExperimentLook,
    ModelStatus,
    ModelVersion,
    RetrainingRun,
    RetrainingStatus,
)
from app.experiments.service import ArmSpec, Experiments
from tests.support.logs import add_log
from worker import tasks


@pytest.fixture
def services(make_settings, embedder):
    services = build_services(make_settings(EXPERIMENT_MIN_CLIENTS="30"), embedder=embedder)
    yield services
    services.close()


def look_through_the_worker(services) -> list[dict]:
    """The periodic task, with the services the worker puts in the job context."""
    context = SimpleNamespace(additional_context={tasks.SERVICES: services})
    return tasks.look_at_experiments(context, int(datetime.now(UTC).timestamp()))


def canary(database) -> tuple[int, int, int]:
    """An active version, a candidate in a canary experiment, and its retraining run."""
    with database.transaction() as session:
        active = ModelVersion(name="v1", base_model="tiny", path="/m/v1", status=ModelStatus.ACTIVE)
        candidate = ModelVersion(name="v2", base_model="tiny", path="/m/v2")
        session.add_all([active, candidate])
        session.flush()
        session.add(
            RetrainingRun(status=RetrainingStatus.CANARY, candidate_version_id=candidate.id)
        )
        experiment = Experiments(database).create(
            session, "Канарейка v2", ExperimentKind.MODEL,
            [ArmSpec("текущая", 0.9, True, active.id),
             ArmSpec("кандидат", 0.1, False, candidate.id)],
            canary_version_id=candidate.id,
        )  # fmt: skip
        return experiment.id, active.id, candidate.id


def rate_in_arm(database, experiment_id: int, arm: str, ratings: list[int], client: str = ""):
    """Answers given in ``arm``, each rated by a client of its own (or all by ``client``)."""
    with database.transaction() as session:
        arm_id = session.scalar(select(ExperimentArm.id).where(
            ExperimentArm.experiment_id == experiment_id, ExperimentArm.name == arm))  # fmt: skip
        for rating in ratings:
            key = client or uuid.uuid4().hex
            log = add_log(session, "Вопрос", "Ответ", rating=rating, client_key=key)
            session.add(ExperimentAnswer(log_id=log.id, arm_id=arm_id))


def alerts(database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(Alert.kind).order_by(Alert.id)))


def test_a_canary_residents_prefer_is_switched_on_for_everyone(services, database):
    experiment_id, _, candidate_id = canary(database)
    rate_in_arm(database, experiment_id, "текущая", [3, 4] * 40)
    rate_in_arm(database, experiment_id, "кандидат", [4, 5] * 40)

    [looked] = look_through_the_worker(services)

    assert looked == {"experiment_id": experiment_id, "outcome": "winner", "arm": "кандидат"}
    with database.session() as session:
        experiment = session.get(Experiment, experiment_id)
        assert experiment.status == "stopped" and experiment.winner == "кандидат"
        assert "«кандидат» лучше контроля «текущая»" in experiment.decision["reason"]
        assert session.get(ModelVersion, candidate_id).status == ModelStatus.ACTIVE
        run = session.scalars(select(RetrainingRun)).one()
        assert run.status == RetrainingStatus.PROMOTED
    assert alerts(database) == ["canary_promoted"]
    assert look_through_the_worker(services) == [], "an ended experiment is not looked at again"


def test_a_canary_residents_like_less_is_rolled_back(services, database):
    experiment_id, active_id, candidate_id = canary(database)
    rate_in_arm(database, experiment_id, "текущая", [4, 5] * 40)
    rate_in_arm(database, experiment_id, "кандидат", [3, 4] * 40)

    look_through_the_worker(services)

    with database.session() as session:
        assert session.get(Experiment, experiment_id).winner == "текущая"
        assert session.get(ModelVersion, candidate_id).status == ModelStatus.REJECTED
        assert session.get(ModelVersion, active_id).status == ModelStatus.ACTIVE
        assert session.scalars(select(RetrainingRun)).one().status == RetrainingStatus.REJECTED
    assert alerts(database) == ["canary_rolled_back"]


def test_a_canary_with_many_unhappy_residents_is_stopped_by_the_guardrail(services, database):
    experiment_id, _, candidate_id = canary(database)
    rate_in_arm(database, experiment_id, "текущая", [5] * 19 + [1] + [4] * 20)
    rate_in_arm(database, experiment_id, "кандидат", [5] * 19 + [1] * 13 + [5] * 8)

    [looked] = look_through_the_worker(services)

    assert looked["outcome"] == "stop_arm" and looked["arm"] == "кандидат"
    with database.session() as session:
        arm = session.scalar(select(ExperimentArm).where(ExperimentArm.name == "кандидат"))
        assert "ограничителем" in arm.stopped_reason
        assert session.get(ModelVersion, candidate_id).status == ModelStatus.REJECTED
    assert alerts(database) == ["canary_rolled_back"]


def test_while_undecided_each_look_is_kept_for_the_chart(services, database):
    experiment_id, _, _ = canary(database)
    rate_in_arm(database, experiment_id, "текущая", [4] * 10)
    rate_in_arm(database, experiment_id, "кандидат", [5] * 10)

    look_through_the_worker(services)
    rate_in_arm(database, experiment_id, "кандидат", [5] * 5)
    look_through_the_worker(services)

    with database.session() as session:
        looks = session.scalars(select(ExperimentLook).order_by(ExperimentLook.id)).all()
        decision = session.get(Experiment, experiment_id).decision
    assert [look.outcome for look in looks] == ["continue", "continue"]
    assert [a["clients"] for a in looks[-1].arms] == [10, 15]
    assert decision["outcome"] == "continue" and "не меньше 30 клиентов" in decision["reason"]
    assert {"answers", "satisfaction", "paid_cost_per_answer_usd", "p95_latency_s"} <= set(
        decision["arms"][0]
    )


def test_one_client_rating_from_a_hundred_sessions_counts_once(services, database):
    """A script drowning the candidate in 1★ from one network: one client, one
    observation; the candidate the other residents prefer still wins."""
    experiment_id, _, _ = canary(database)
    rate_in_arm(database, experiment_id, "текущая", [3, 4] * 40)
    rate_in_arm(database, experiment_id, "кандидат", [4, 5] * 40)
    rate_in_arm(database, experiment_id, "кандидат", [1] * 100, client="one-script")

    [looked] = look_through_the_worker(services)

    assert looked["outcome"] == "winner" and looked["arm"] == "кандидат"
    with database.session() as session:
        arms = session.get(Experiment, experiment_id).decision["arms"]
    assert [a["clients"] for a in arms] == [80, 81]
