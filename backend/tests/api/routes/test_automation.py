"""Operator endpoints of the automation: follow and request retraining runs, read alerts,
and the status endpoint reporting what check_retraining decides."""

from sqlalchemy import select

from app.alerts.service import Alerts
from app.db.models import RetrainingRun
from app.retraining.decision import check_retraining
from tests.conftest import OPERATOR_HEADERS
from tests.support.logs import add_log

ADMIN_KEY = "operator-secret"
OPERATOR = {"Authorization": f"Bearer {ADMIN_KEY}"}


def test_automation_endpoints_need_the_operator_key(make_client, make_settings):
    client = make_client(make_settings(ADMIN_API_KEY=ADMIN_KEY))
    for method, path in [("get", "/api/voice/retraining/runs"), ("get", "/api/voice/alerts"),
                         ("post", "/api/voice/retraining")]:  # fmt: skip
        response = client.request(method.upper(), path, headers={"Authorization": "Bearer x"})
        assert response.status_code == 401, path


def test_an_operator_requests_a_run_once_and_follows_it(make_client, make_settings, database):
    client = make_client(make_settings(ADMIN_API_KEY=ADMIN_KEY))

    first = client.post("/api/voice/retraining", json={"reason": "новый тариф"}, headers=OPERATOR)
    again = client.post("/api/voice/retraining", json={}, headers=OPERATOR)

    assert first.status_code == 202 and again.status_code == 202
    run = first.json()
    assert run["status"] == "queued" and run["reasons"] == ["новый тариф"]
    assert again.json()["id"] == run["id"], "a queued run is not queued twice"
    listed = client.get("/api/voice/retraining/runs", headers=OPERATOR).json()
    assert [r["id"] for r in listed] == [run["id"]]
    detail = client.get(f"/api/voice/retraining/runs/{run['id']}", headers=OPERATOR).json()
    assert detail["log"] == [] and detail["attempts"] == 0
    with database.engine.connect() as connection:
        jobs = connection.exec_driver_sql("SELECT args FROM procrastinate_jobs").all()
    assert jobs == [({"run_id": run["id"]},)]


def test_an_unknown_run_is_a_clear_404(make_client, make_settings):
    client = make_client(make_settings(ADMIN_API_KEY=ADMIN_KEY))
    response = client.get("/api/voice/retraining/runs/999", headers=OPERATOR)
    assert response.status_code == 404 and "999" in response.json()["detail"]
    assert (
        client.post("/api/voice/retraining", json={"reason": ""}, headers=OPERATOR).status_code
        == 422
    )


def test_alerts_are_listed_newest_first(make_client, make_settings, database):
    settings = make_settings(ADMIN_API_KEY=ADMIN_KEY)
    client = make_client(settings)
    alerts = Alerts(database, settings)
    alerts.raise_alert("quality_drop", "Средняя оценка 2.9 < 3.5", {"avg_rating": 2.9})
    alerts.raise_alert("model_promoted", "Модель v2 включена")

    listed = client.get("/api/voice/alerts", headers=OPERATOR).json()

    assert [a["kind"] for a in listed] == ["model_promoted", "quality_drop"]
    assert listed[1]["details"] == {"avg_rating": 2.9} and listed[1]["severity"] == "warning"
    assert listed[0]["deliveries"] == {"log": "delivered"}
    download = client.get("/api/voice/alerts?format=csv", headers=OPERATOR)
    assert download.headers["content-type"].startswith("text/csv")
    assert "Средняя оценка 2.9 < 3.5" in download.text


def test_status_reports_the_same_decision_as_check_retraining(client, settings, database):
    with database.session() as session:
        for number in range(25):
            add_log(session, f"Вопрос {number}", "Ответ", rating=1 if number < 15 else 5)
        session.commit()
        check = check_retraining(session, settings, enqueue=False)

    status = client.get("/api/voice/self-learning/status", headers=OPERATOR_HEADERS).json()

    assert status["requires_retraining"] is check.decision.required is True
    assert status["retraining_reasons"] == check.decision.reasons
    assert status["decision_window_days"] == 30
    assert status["window_metrics"]["rated"] == 25 and status["latest_metrics"] is None
    with database.session() as session:
        assert session.scalars(select(RetrainingRun)).all() == []
