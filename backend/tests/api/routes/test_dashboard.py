"""The JSON behind the dashboard's charts: figures per day or week, and the same as CSV."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.logs import add_log

ADMIN_KEY = "operator-secret"
OPERATOR = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def dashboard(make_client, make_settings):
    return make_client(make_settings(ADMIN_API_KEY=ADMIN_KEY))


def three_days(session) -> None:
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
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


def test_an_empty_database_has_no_points_and_zero_totals(dashboard):
    body = dashboard.get("/api/voice/metrics/timeseries", headers=OPERATOR).json()
    assert body["points"] == [] and body["totals"]["interactions"] == 0


def test_bad_parameters_are_a_clear_422_and_the_key_is_required(dashboard):
    response = dashboard.get("/api/voice/metrics/timeseries?bucket=year", headers=OPERATOR)
    assert response.status_code == 422
    assert dashboard.get("/api/voice/metrics/timeseries").status_code == 401
