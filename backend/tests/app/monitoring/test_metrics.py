"""``GET /metrics`` in Prometheus' text format, behind the operator key: request latencies
by route template, answers by source, paid tokens and cost, ratings, cache decisions, and,
from the database, retraining runs and running experiments; the paid model's circuit."""

from prometheus_client.parser import text_string_to_metric_families

from app.db.models import RetrainingRun
from tests.support.dialog import BOT_OPERATOR, ask, correct, rate_accepted


def scrape(client, headers=BOT_OPERATOR) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_need_the_operator_key(bot):
    assert bot.get("/metrics").status_code == 401
    assert bot.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_what_the_service_did_is_counted(bot, llm_server, database):
    paid = ask(bot, "Когда моют окна в подъезде?", "resident-1")
    rate_accepted(bot, paid, 2)
    correct(bot, paid["log_id"], "Окна моем 2 раза в год — в апреле и в сентябре.")
    cached = ask(bot, "Когда моют окна в подъезде?", "resident-2")
    rate_accepted(bot, cached, 5)
    with database.transaction() as session:
        session.add(RetrainingRun(status="rejected"))

    metrics = scrape(bot)

    assert (paid["answer_source"], cached["answer_source"]) == ("llm", "cache")
    assert metrics[("vasdom_answers_total", (("source", "llm"),))] == 1
    assert metrics[("vasdom_answers_total", (("source", "cache"),))] == 1
    assert metrics[("vasdom_cache_decisions_total", (("outcome", "served"),))] == 1
    assert metrics[("vasdom_cache_decisions_total", (("outcome", "not_served"),))] == 1
    assert metrics[("vasdom_ratings_total", (("stars", "2"),))] == 1
    assert metrics[("vasdom_ratings_total", (("stars", "5"),))] == 1
    assert metrics[("vasdom_paid_tokens_total", (("kind", "prompt"),))] > 0
    assert metrics[("vasdom_paid_cost_usd_total", ())] > 0
    assert metrics[("vasdom_retraining_runs", (("status", "rejected"),))] == 1
    assert metrics[("vasdom_llm_circuit_state", ())] == 0
    process = (("method", "POST"), ("route", "/api/voice/process"), ("status", "200"))
    assert metrics[("vasdom_http_request_duration_seconds_count", process)] == 2
    correction = (("method", "POST"), ("route", "/api/voice/logs/{log_id}/correction"),
                  ("status", "200"))  # fmt: skip
    assert metrics[("vasdom_http_request_duration_seconds_count", correction)] == 1


def test_a_path_no_route_matches_is_one_series_not_one_per_url(bot):
    for number in range(5):
        assert bot.get(f"/no/such/page/{number}").status_code == 404
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert scrape(bot)[("vasdom_http_request_duration_seconds_count", unmatched)] == 5


def test_the_grafana_dashboard_plots_only_metrics_the_service_exposes(bot, database):
    """Every ``vasdom_*`` series a panel of ``deploy/grafana/vasdom.json`` queries is one
    the service writes (a renamed metric would leave a panel silently empty)."""
    import json
    import re

    from app.core.paths import BACKEND_DIR

    rate_accepted(bot, ask(bot, "Когда моют окна в подъезде?", "resident-1"), 4)
    with database.transaction() as session:
        session.add(RetrainingRun(status="queued"))
    bot.post("/api/voice/experiments", headers=BOT_OPERATOR, json={
        "name": "Без кэша", "kind": "config", "arms": [
            {"name": "как сейчас", "share": 0.5, "control": True},
            {"name": "без кэша", "share": 0.5, "settings": {"CACHE_ENABLED": False}},
        ]}).raise_for_status()  # fmt: skip
    exposed = {name for name, _ in scrape(bot)}
    dashboard = json.loads((BACKEND_DIR / "deploy" / "grafana" / "vasdom.json").read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"vasdom_[a-z_]+", target["expr"])
    }
    assert len(queried) >= 8
    assert queried <= exposed, queried - exposed
