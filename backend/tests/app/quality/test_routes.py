"""Quality figures for operators: the seed's self-learning status (the same decision as
``check_retraining``) and the dashboard's series over time."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.db.models import RetrainingRun
from app.retraining.decision import decide_retraining
from tests.support.dialog import OPERATOR_HEADERS, as_operator, ask
from tests.support.feedback import rate
from tests.support.logs import add_log


def test_status_counts_interactions_and_ratings(client):
    ratings = [5, 4, 1, 2, 3]
    for rating in ratings:
        rate(client, ask(client, "Сколько стоит уборка?"), rating)
    ask(client, "Вопрос без оценки")
    status = as_operator(client, "GET", "/api/voice/self-learning/status").json()
    assert {
        "total_interactions",
        "avg_rating",
        "positive_ratings_count",
        "negative_ratings_count",
        "current_model",
        "requires_retraining",
    } <= status.keys()
    assert status["total_interactions"] == 6
    assert status["avg_rating"] == pytest.approx(3.0)
    assert status["positive_ratings_count"] == 2
    assert status["negative_ratings_count"] == 2
    assert status["current_model"] == "offline"
    assert status["requires_retraining"] is False  # too few ratings to judge


def test_status_on_an_empty_database(client):
    status = as_operator(client, "GET", "/api/voice/self-learning/status").json()
    assert status["total_interactions"] == 0
    assert status["avg_rating"] is None


def test_status_reports_the_same_decision_as_check_retraining(client, settings, database):
    with database.session() as session:
        for number in range(25):
            add_log(session, f"Вопрос {number}", "Ответ", rating=1 if number < 15 else 5)
        session.commit()
        check = decide_retraining(session, settings)

    status = client.get("/api/voice/self-learning/status", headers=OPERATOR_HEADERS).json()

    assert status["requires_retraining"] is check.decision.required is True
    assert status["retraining_reasons"] == check.decision.reasons
    assert status["decision_window_days"] == 30
    assert status["window_metrics"]["rated"] == 25 and status["latest_metrics"] is None
    with database.session() as session:
        assert session.scalars(select(RetrainingRun)).all() == []


ADMIN_KEY = "operator-secret-key"

OPERATOR = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def dashboard(make_client, make_settings):
    return make_client(make_settings(ADMIN_API_KEY=ADMIN_KEY))


def earlier_today() -> datetime:
    """A moment of today that has passed, whatever the hour the test runs at (noon would
    still be ahead in the morning, and outside a window that ends now)."""
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + (now - midnight) / 2


def three_days(session) -> None:
    today = earlier_today()
    rows = [  # days ago, source, rating, cost
        (2, "llm", 2, 0.004), (2, "llm", 4, 0.002),
        (1, "cache", 5, 0.0), (1, "llm", None, 0.003), (1, "local", 1, 0.0),
        (0, "cache", 5, 0.0),
    ]  # fmt: skip
    for number, (days_ago, source, rating, cost) in enumerate(rows):
        add_log(session, f"Вопрос {number}", "Ответ", answer_source=source, rating=rating,
                cost_usd=cost, created_at=today - timedelta(days=days_ago))  # fmt: skip
    session.commit()


def test_daily_points_follow_the_logs(dashboard, database):
    with database.session() as session:
        three_days(session)

    body = dashboard.get("/api/voice/metrics/timeseries?days=7", headers=OPERATOR).json()

    points = body["points"]
    assert [p["interactions"] for p in points] == [2, 3, 1]
    assert [p["avg_rating"] for p in points] == [3.0, 3.0, 5.0]
    assert [p["paid_share"] for p in points] == [1.0, pytest.approx(1 / 3, abs=1e-4), 0.0]
    assert points[1]["cache_answers"] == 1 and points[1]["local_answers"] == 1
    # Paid answers cost 0.003 on average: the day with two free answers saved 0.006.
    assert points[1]["estimated_savings_usd"] == 0.006
    assert body["totals"]["interactions"] == 6
    assert body["totals"]["estimated_savings_usd"] == pytest.approx(3 * 0.009 / 3)


def test_weekly_points_and_the_csv_download(dashboard, database):
    with database.session() as session:
        three_days(session)

    weekly = dashboard.get("/api/voice/metrics/timeseries?bucket=week", headers=OPERATOR).json()
    download = dashboard.get("/api/voice/metrics/timeseries?format=csv", headers=OPERATOR)

    assert sum(p["interactions"] for p in weekly["points"]) == 6 and len(weekly["points"]) <= 2
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text.lstrip("\ufeff"))))
    assert [row["interactions"] for row in rows] == ["2", "3", "1"]
    assert [row["clients_rated_clients"] for row in rows] == ["2", "2", "1"]


def test_each_day_also_counts_every_client_once(dashboard, database):
    """One script rating 1★ from thirty session ids at one address is one unhappy client
    on the chart beside two happy residents, as in the retraining decision."""
    day = earlier_today()
    with database.session() as session:
        for number in range(30):
            add_log(session, f"Вопрос {number}", "Ответ", rating=1, created_at=day,
                    client_key="one-script", session_id=f"script-{number}")  # fmt: skip
        for resident in ("a", "b"):
            add_log(session, "Вопрос", "Ответ", rating=5, created_at=day, client_key=resident)
        session.commit()

    (point,) = dashboard.get("/api/voice/metrics/timeseries", headers=OPERATOR).json()["points"]

    assert point["avg_rating"] == pytest.approx(40 / 32, abs=1e-3), "raw: the script dominates"
    assert point["clients"] == {"rated_clients": 3, "avg_rating": pytest.approx(11 / 3, abs=1e-3),
                                "satisfaction": pytest.approx(2 / 3, abs=1e-4),
                                "negative_share": pytest.approx(1 / 3, abs=1e-4),
                                "answered_clients": 3, "implicit_satisfaction": 1.0}  # fmt: skip


def test_an_empty_database_has_no_points_and_zero_totals(dashboard):
    body = dashboard.get("/api/voice/metrics/timeseries", headers=OPERATOR).json()
    assert body["points"] == [] and body["totals"]["interactions"] == 0


def test_bad_parameters_are_a_clear_422_and_the_key_is_required(dashboard):
    response = dashboard.get("/api/voice/metrics/timeseries?bucket=year", headers=OPERATOR)
    assert response.status_code == 422
    assert dashboard.get("/api/voice/metrics/timeseries").status_code == 401
