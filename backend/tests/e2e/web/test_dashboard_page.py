"""The dashboard in a real browser: charts drawn from the API, model versions with their
actions, evaluating now, and an empty database that says so."""

from datetime import UTC, datetime, timedelta

from app.db.models import ModelVersion
from tests.e2e.web.conftest import screenshot, wait_for_expression
from tests.support.logs import add_log

ADMIN_KEY = "operator-secret-key"


def log_in(page, url: str) -> None:
    page.goto(url + "/dashboard")
    page.fill("#key", ADMIN_KEY)
    page.click("#login button")


def chart_points(page, chart_id: str) -> int:
    return page.evaluate(f"Chart.getChart('{chart_id}').data.labels.length")


def test_charts_models_and_evaluation_from_a_history(serve, page, make_settings, database):
    now = datetime.now(UTC)
    with database.session() as session:
        for days_ago in range(5):
            for number, (source, rating) in enumerate([("llm", 2), ("cache", 5), ("llm", None)]):
                add_log(session, f"Вопрос {days_ago}-{number}", "Ответ", answer_source=source,
                        rating=rating, cost_usd=0.002 if source == "llm" else 0.0,
                        created_at=now - timedelta(days=days_ago))  # fmt: skip
        session.add(ModelVersion(name="v20261101_120000", base_model="smollm2-135m-instruct",
                                 path="/nonexistent", adapter=True, status="candidate",
                                 metrics={"last_loss": 0.42}))  # fmt: skip
        session.commit()
    server = serve(make_settings(ADMIN_API_KEY=ADMIN_KEY))

    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, server.url)
    page.locator("#chart-quality").wait_for()
    wait_for_expression(page, "Chart.getChart('chart-time') !== undefined")

    assert chart_points(page, "chart-quality") == 5
    assert chart_points(page, "chart-sources") == 5
    assert "Вопросов: 15" in page.inner_text("#totals")
    assert "оценивших клиентов: 10" in page.inner_text("#totals")
    per_client = page.evaluate(
        "Chart.getChart('chart-quality').data.datasets"
        ".find((d) => d.label === 'средняя оценка по клиентам').data"
    )
    assert per_client == [3.5] * 5
    implicit = page.evaluate(
        "Chart.getChart('chart-quality').data.datasets"
        ".find((d) => d.label.startsWith('не переспросили')).data"
    )
    assert implicit == [5.0] * 5  # no answer was re-asked or escalated: a full share, ×5
    assert "без переспросов и оператора: 100%" in page.inner_text("#totals")
    models = page.inner_text("#models")
    assert "v20261101_120000" in models and "кандидат" in models and "0.42" in models
    page.click("#evaluate")
    page.get_by_text("средняя оценка 3.5").wait_for()
    screenshot(page, "dashboard")

    page.select_option("#bucket", "week")
    wait_for_expression(page, "Chart.getChart('chart-quality').data.labels.length <= 2")


def test_an_empty_database_shows_empty_states_not_errors(serve, page, make_settings):
    server = serve(make_settings(ADMIN_API_KEY=ADMIN_KEY))
    log_in(page, server.url)
    page.get_by_text("Данных пока нет").wait_for()
    page.get_by_text("Локальных моделей пока нет").wait_for()
    page.get_by_text("Выгрузок пока нет.").wait_for()
    page.click("#evaluate")
    page.get_by_text("Оценивать пока нечего").wait_for()
    assert page.locator("#status").is_hidden()
