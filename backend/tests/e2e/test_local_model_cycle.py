"""The whole offline cycle: history → export → fine-tune → activate in a running app → answer."""

import pytest

from tests.support.feedback import rate
from training.exporting import ExportOptions, export
from training.fine_tuning import FineTuneOptions, fine_tune, register
from training.tiny_model import build_tiny_model

ADMIN = {"Authorization": "Bearer operator-secret-key"}


@pytest.fixture
def app_with_local_models(make_client, make_settings):
    return make_client(make_settings(ADMIN_API_KEY="operator-secret-key", LOCAL_MIN_CONFIDENCE="0"))


def trained_version(database, settings, tmp_path, name: str) -> int:
    """Export what the app has logged so far and fine-tune a tiny model on it."""
    exported = export(database, settings, ExportOptions(out_dir=tmp_path / "data"))
    base = build_tiny_model(tmp_path / f"base-{name}")
    options = FineTuneOptions(
        data=exported.path,
        model=str(base),
        output=tmp_path / "models",
        lora=False,
        max_steps=10,
        batch_size=4,
        learning_rate=3e-3,
    )
    return register(database, fine_tune(options), options)


def canary_of(database, version_id: int) -> int:
    """A canary experiment of ``version_id``, as a retraining run opens it."""
    from app.db.models import ExperimentKind
    from app.experiments.service import ArmSpec, Experiments

    arms = [ArmSpec("текущая", 0.9, True), ArmSpec("кандидат", 0.1, False, version_id)]
    with database.transaction() as session:
        return (
            Experiments(database)
            .create(session, "Канарейка", ExperimentKind.MODEL, arms, canary_version_id=version_id)
            .id
        )


def build_history(client) -> None:
    for n, question in enumerate(
        ["Как часто моют подъезд?", "Какой телефон диспетчерской?", "Сколько стоит уборка?"]
    ):
        answer = client.post(
            "/api/voice/process", json={"message": f"{question} Звоните +7 912 345-67-0{n}"}
        ).json()
        rate(client, answer, 5)


def test_a_fine_tuned_version_is_activated_without_restart_and_answers(
    app_with_local_models, database, settings, tmp_path
):
    client = app_with_local_models
    build_history(client)
    version_id = trained_version(database, settings, tmp_path, "first")

    listed = client.get("/api/voice/models", headers=ADMIN).json()
    assert [(v["id"], v["status"]) for v in listed] == [(version_id, "candidate")]
    canary = canary_of(database, version_id)
    activated = client.post(f"/api/voice/models/{version_id}/activate", headers=ADMIN)
    assert activated.status_code == 200, activated.text
    name = activated.json()["name"]
    ended = client.get(f"/api/voice/experiments/{canary}", headers=ADMIN).json()
    assert ended["status"] == "stopped" and ended["winner"] is None
    assert ended["decision"]["reason"] == f"Оператор включил модель {name} вручную"

    reply = client.post("/api/voice/process", json={"message": "Когда уборка в подъезде?"}).json()
    assert reply["answer_source"] == "local"
    assert reply["model_used"] == f"local:{name}"
    health = client.get("/api/voice/health").json()
    assert health["details"]["local_model"] == "healthy"


def test_rollback_returns_to_the_previous_version_and_a_broken_one_changes_nothing(
    app_with_local_models, database, settings, tmp_path
):
    from app.db.models import ModelVersion

    client = app_with_local_models
    build_history(client)
    first = trained_version(database, settings, tmp_path, "first")
    second = trained_version(database, settings, tmp_path, "second")
    client.post(f"/api/voice/models/{first}/activate", headers=ADMIN)
    client.post(f"/api/voice/models/{second}/activate", headers=ADMIN)

    rolled = client.post("/api/voice/models/rollback", headers=ADMIN)
    assert rolled.status_code == 200 and rolled.json()["id"] == first

    with database.session() as session:
        broken = ModelVersion(name="broken", base_model="x", path=str(tmp_path / "nowhere"))
        session.add(broken)
        session.commit()
        broken_id = broken.id
    refused = client.post(f"/api/voice/models/{broken_id}/activate", headers=ADMIN)
    assert refused.status_code == 422
    assert "прежняя" in refused.json()["detail"]
    statuses = {v["id"]: v["status"] for v in client.get("/api/voice/models", headers=ADMIN).json()}
    assert statuses == {first: "active", second: "retired", broken_id: "candidate"}
    reply = client.post("/api/voice/process", json={"message": "Когда уборка?"}).json()
    assert reply["answer_source"] == "local"
    assert client.post("/api/voice/models/999999/activate", headers=ADMIN).status_code == 404
