"""The alert log for operators."""

from app.alerts.service import Alerts

ADMIN_KEY = "operator-secret-key"

OPERATOR = {"Authorization": f"Bearer {ADMIN_KEY}"}


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
