"""Operators create, pause and stop experiments; one open experiment per kind; arms that
make no experiment are refused with the reason; conversations are answered in their arm."""

import csv
import io

import pytest
from sqlalchemy import select

from app.db.models import ExperimentAnswer, ExperimentArm
from app.experiments.assignment import assign
from tests.support.dialog import (
    BOT_OPERATOR,
    OPERATOR_HEADERS,
    ask,
    correct,
)

CACHE_OFF = {
    "name": "Без проверенных ответов",
    "kind": "config",
    "arms": [
        {"name": "как сейчас", "share": 0.5, "control": True},
        {"name": "без кэша", "share": 0.5, "settings": {"CACHE_ENABLED": False}},
    ],
}


def create(client, body, headers=OPERATOR_HEADERS):
    return client.post("/api/voice/experiments", json=body, headers=headers)


def test_an_operator_starts_an_experiment_and_a_second_of_the_same_kind_is_refused(client):
    started = create(client, CACHE_OFF)
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["status"] == "running" and body["kind"] == "config"
    assert [(a["name"], a["share"], a["is_control"]) for a in body["arms"]] == [
        ("как сейчас", 0.5, True),
        ("без кэша", 0.5, False),
    ]

    second = create(client, CACHE_OFF | {"name": "Ещё один"})
    assert second.status_code == 409
    assert f"№{body['id']}" in second.json()["detail"]

    paused = client.post(f"/api/voice/experiments/{body['id']}/pause", headers=OPERATOR_HEADERS)
    assert paused.json()["status"] == "paused"
    assert create(client, CACHE_OFF).status_code == 409, "a paused experiment keeps its slot"

    stop = client.post(f"/api/voice/experiments/{body['id']}/stop", headers=OPERATOR_HEADERS)
    assert stop.json()["status"] == "stopped" and stop.json()["stopped_at"]
    again = client.post(f"/api/voice/experiments/{body['id']}/resume", headers=OPERATOR_HEADERS)
    assert again.status_code == 409, "a stopped experiment stays stopped"
    assert create(client, CACHE_OFF).status_code == 201


def test_experiments_are_for_operators_only(client):
    assert create(client, CACHE_OFF, headers={}).status_code == 401
    assert client.get("/api/voice/experiments").status_code == 401


@pytest.mark.parametrize(
    ("arms", "words"),
    [
        ([{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5}], "контрольным"),
        ([{"name": "a", "share": 0.5, "control": True},
          {"name": "a", "share": 0.5}], "различаться"),
        ([{"name": "a", "share": 0.5, "control": True},
          {"name": "b", "share": 0.5, "settings": {"LLM_MODEL": "x"}}], "нельзя менять"),
        ([{"name": "a", "share": 0.5, "control": True},
          {"name": "b", "share": 0.5, "settings": {"CACHE_MIN_MARGIN": -1}}], "CACHE_MIN_MARGIN"),
        ([{"name": "a", "share": 0.5, "control": True},
          {"name": "b", "share": 0.5, "model_version_id": 5}], "различаются настройками"),
    ],
)  # fmt: skip
def test_arms_that_make_no_experiment_are_refused_with_the_reason(client, arms, words):
    response = create(client, {"name": "Плохой", "kind": "config", "arms": arms})
    assert response.status_code == 422
    assert words in response.text
    assert client.get("/api/voice/experiments", headers=OPERATOR_HEADERS).json() == []


def test_a_model_experiment_names_versions_that_exist(client):
    body = {"name": "Модели", "kind": "model", "arms": [
        {"name": "без модели", "share": 0.9, "control": True},
        {"name": "версия 99", "share": 0.1, "model_version_id": 99},
    ]}  # fmt: skip
    response = create(client, body)
    assert response.status_code == 404 and "99 не найдена" in response.text


def test_each_conversation_is_answered_in_its_arm_and_the_answer_records_it(bot, database):
    """A corrected answer is served from cache to the control arm only; the other arm
    answers with the cache off, as its settings say; each log is recorded in its arm."""
    question = "Сколько стоит уборка подъезда?"
    correct(bot, ask(bot, question, "operator-seed")["log_id"], "Уборка стоит 4800 ₽ в месяц.")
    experiment = create(bot, CACHE_OFF, headers=BOT_OPERATOR).json()
    arm_ids = {a["name"]: a["id"] for a in experiment["arms"]}
    shares = [(str(arm_ids["как сейчас"]), 0.5), (str(arm_ids["без кэша"]), 0.5)]

    answers = {f"resident-{n}": ask(bot, question, f"resident-{n}") for n in range(12)}

    with database.session() as session:
        rows = session.execute(select(ExperimentAnswer.log_id, ExperimentAnswer.arm_id)).all()
    recorded = {log_id: arm_id for log_id, arm_id in rows}
    for session_id, answer in answers.items():
        arm = int(assign(experiment["id"], session_id, shares))
        assert recorded[answer["log_id"]] == arm, session_id
        expected = "cache" if arm == arm_ids["как сейчас"] else "llm"
        assert answer["answer_source"] == expected, (session_id, answer)
    assert len(set(recorded.values())) == 2, "twelve conversations fell in both arms"


def test_the_experiments_table_downloads_as_csv(client, database):
    created = create(client, CACHE_OFF).json()
    response = client.get("/api/voice/experiments", params={"format": "csv"},
                          headers=OPERATOR_HEADERS)  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(response.text.removeprefix("\ufeff"))))
    assert [(r["experiment_id"], r["arm"], r["share"]) for r in rows] == [
        (str(created["id"]), "как сейчас", "0.5"),
        (str(created["id"]), "без кэша", "0.5"),
    ]
    with database.session() as session:
        assert len(session.scalars(select(ExperimentArm)).all()) == 2


def test_conversations_of_a_stopped_arm_go_to_the_control_and_no_one_else_moves(client, database):
    three = {"name": "Три порога", "kind": "config", "arms": [
        {"name": "как сейчас", "share": 0.5, "control": True},
        {"name": "0.35", "share": 0.3, "settings": {"CACHE_MIN_MARGIN": 0.35}},
        {"name": "0.55", "share": 0.2, "settings": {"CACHE_MIN_MARGIN": 0.55}},
    ]}  # fmt: skip
    experiment_id = create(client, three).json()["id"]
    experiments = client.app.state.services.experiments
    sessions = [f"resident-{n}" for n in range(600)]
    before = {s: experiments.arms_for(s)[0].name for s in sessions}

    with database.transaction() as session:
        stopped = session.scalar(
            select(ExperimentArm).where(
                ExperimentArm.experiment_id == experiment_id, ExperimentArm.name == "0.35"
            )
        )
        stopped.stopped_reason = "ограничитель"
    experiments.forget()
    after = {s: experiments.arms_for(s)[0].name for s in sessions}

    assert {after[s] for s in sessions if before[s] == "0.35"} == {"как сейчас"}
    assert all(after[s] == before[s] for s in sessions if before[s] != "0.35")
    assert {"как сейчас", "0.35", "0.55"} == set(before.values())


def test_shares_are_weights_stored_as_parts_of_one(client):
    body = {"name": "Поровну", "kind": "config", "arms": [
        {"name": "сейчас", "share": 0.2, "control": True},
        {"name": "без кэша", "share": 0.2, "settings": {"CACHE_ENABLED": False}},
    ]}  # fmt: skip

    response = create(client, body)

    assert response.status_code == 201, response.text
    assert [arm["share"] for arm in response.json()["arms"]] == [0.5, 0.5]


def test_the_schema_states_the_rules_of_arms_the_service_enforces(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    arms = schemas["ExperimentRequest"]["properties"]["arms"]
    settings = schemas["ArmRequest"]["properties"]["settings"]["anyOf"][0]

    assert arms["contains"]["properties"]["control"] == {"const": True}
    assert (arms["minContains"], arms["maxContains"]) == (1, 1)
    assert settings["additionalProperties"] is False
    assert settings["properties"]["CACHE_MIN_MARGIN"]["minimum"] == 0
    assert "LLM_MODEL" not in settings["properties"]
    kinds = {rule["if"]["properties"]["kind"]["const"] for rule in
             schemas["ExperimentRequest"]["allOf"]}  # fmt: skip
    assert kinds == {"model", "config"}
