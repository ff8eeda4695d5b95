"""Alerts: stored, delivered to a real webhook receiver on 127.0.0.1, retried, deduplicated."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app.alerts.service import Alerts
from app.db.models import Alert


class Receiver:
    """A webhook endpoint that fails its first ``failures`` requests with a 500."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.failures > 0:
                    receiver.failures -= 1
                    self.send_response(500)
                else:
                    receiver.received.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(failures: int = 0) -> Receiver:
        made.append(Receiver(failures))
        return made[-1]

    yield make
    for server in made:
        server.close()


def test_an_alert_is_stored_and_posted_as_json_to_the_webhook(database, make_settings, receiver):
    hook = receiver()
    alerts = Alerts(database, make_settings(ALERT_WEBHOOK_URL=hook.url), backoff_seconds=0)

    outcome = alerts.raise_alert("model_promoted", "Модель v2 включена", {"accuracy": 0.81})

    assert outcome.deliveries == {"log": "delivered", "webhook": "delivered"}
    [payload] = hook.received
    assert payload["kind"] == "model_promoted" and payload["severity"] == "info"
    assert payload["title"] == "Модель v2 включена" and payload["details"] == {"accuracy": 0.81}
    with database.session() as session:
        stored = session.get(Alert, outcome.alert_id)
        assert stored.deliveries["webhook"] == "delivered" and stored.repeats == 0


def test_a_receiver_that_fails_first_gets_the_alert_on_a_retry(database, make_settings, receiver):
    hook = receiver(failures=2)
    settings = make_settings(ALERT_WEBHOOK_URL=hook.url, ALERT_RETRIES="3")

    outcome = Alerts(database, settings, backoff_seconds=0).raise_alert("retraining_failed", "x")

    assert outcome.deliveries["webhook"] == "delivered" and len(hook.received) == 1


def test_a_channel_that_keeps_failing_is_recorded_and_never_raises(
    database, make_settings, receiver
):
    hook = receiver(failures=99)
    settings = make_settings(ALERT_WEBHOOK_URL=hook.url, ALERT_RETRIES="2")

    outcome = Alerts(database, settings, backoff_seconds=0).raise_alert("quality_drop", "низко")

    assert outcome.deliveries["webhook"].startswith("failed: ")
    assert hook.failures == 97  # tried exactly twice
    with database.session() as session:
        assert session.get(Alert, outcome.alert_id).deliveries["webhook"].startswith("failed")


def test_the_same_alert_within_the_window_is_folded_not_resent(database, make_settings, receiver):
    hook = receiver()
    alerts = Alerts(database, make_settings(ALERT_WEBHOOK_URL=hook.url), backoff_seconds=0)

    first = alerts.raise_alert("quality_drop", "Средняя оценка 2.9 < 3.5")
    again = alerts.raise_alert("quality_drop", "Средняя оценка 2.9 < 3.5")
    other = alerts.raise_alert("quality_drop", "Средняя оценка 2.1 < 3.5")

    assert again.deduplicated and again.alert_id == first.alert_id
    assert not other.deduplicated
    assert [p["title"] for p in hook.received] == [
        "Средняя оценка 2.9 < 3.5",
        "Средняя оценка 2.1 < 3.5",
    ]
    with database.session() as session:
        rows = session.scalars(select(Alert).order_by(Alert.id)).all()
        assert [row.repeats for row in rows] == [1, 0]


def test_with_no_dedup_window_every_alert_is_sent(database, make_settings, receiver):
    hook = receiver()
    settings = make_settings(ALERT_WEBHOOK_URL=hook.url, ALERT_DEDUP_MINUTES="0")
    alerts = Alerts(database, settings, backoff_seconds=0)
    alerts.raise_alert("quality_drop", "то же")
    alerts.raise_alert("quality_drop", "то же")
    assert len(hook.received) == 2


def test_apprise_urls_are_a_channel_and_a_bad_one_is_a_clear_error(database, make_settings):
    # json:// is apprise's own generic JSON webhook: a real apprise delivery to 127.0.0.1.
    receiver_server = Receiver()
    try:
        url = receiver_server.url.replace("http://", "json://")
        alerts = Alerts(database, make_settings(ALERT_URLS=url), backoff_seconds=0)
        outcome = alerts.raise_alert("model_rolled_back", "Откат на v1")
        assert outcome.deliveries["apprise"] == "delivered"
        assert "Откат на v1" in json.dumps(receiver_server.received, ensure_ascii=False)
    finally:
        receiver_server.close()
    with pytest.raises(ValueError, match="apprise does not understand"):
        Alerts(database, make_settings(ALERT_URLS="nonsense-scheme://x"))


def test_a_persisting_quality_drop_is_one_alert_whatever_its_figures(database, make_settings):
    from app.alerts.service import alert_quality_drop

    alerts = Alerts(database, make_settings())
    first = alert_quality_drop(alerts, ["average rating 2.91 < 3.5"], {})
    second = alert_quality_drop(alerts, ["average rating 2.89 < 3.5"], {})
    assert second.deduplicated and second.alert_id == first.alert_id
    with database.session() as session:
        stored = session.get(Alert, first.alert_id)
    assert stored.details["reasons"] == ["average rating 2.91 < 3.5"] and stored.repeats == 1
