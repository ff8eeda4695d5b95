"""Retraining runs for operators: request one (one run however many ask at once), follow it."""

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from app.db.models import RetrainingRun

ADMIN_KEY = "operator-secret-key"

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


def test_concurrent_requests_for_a_run_create_one_run(make_client, make_settings, database):
    """Eight operators pressing the button at once: one run, one job, every answer names it."""
    client = make_client(make_settings(ADMIN_API_KEY=ADMIN_KEY))
    start = threading.Barrier(8)

    def request_run(_: int) -> int:
        start.wait()
        response = client.post("/api/voice/retraining", json={"reason": "сразу"}, headers=OPERATOR)
        assert response.status_code == 202
        return response.json()["id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(request_run, range(8)))

    with database.session() as session:
        runs = session.scalars(select(RetrainingRun.id)).all()
    assert len(runs) == 1 and set(ids) == set(runs)
    with database.engine.connect() as connection:
        jobs = connection.exec_driver_sql("SELECT count(*) FROM procrastinate_jobs").scalar()
    assert jobs == 1
