"""The dashboard in a real browser: charts drawn from the API, model versions with their
actions, evaluating now, and an empty database that says so."""

from datetime import UTC, datetime, timedelta

from app.alerts.service import Alerts
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
    page.get_by_text("Экспериментов пока нет").wait_for()


def looked_at_twice(database, settings) -> int:
    """A configuration experiment the worker looked at twice: with 10 clients an arm (too
    few), then with 40 (the new arm is better by 1★: the winner)."""
    import uuid

    from app.db.models import ExperimentAnswer, ExperimentKind
    from app.experiments.referee import Referee
    from app.experiments.service import ArmSpec, Experiments

    arms = [ArmSpec("как сейчас", 0.5, True),
            ArmSpec("0.35", 0.5, False, None, {"CACHE_MIN_MARGIN": 0.35})]  # fmt: skip
    with database.transaction() as session:
        experiment = Experiments(database).create(
            session, "Порог кэша 0.35", ExperimentKind.CONFIG, arms
        )
        ids = {arm.name: arm.id for arm in experiment.arms}
    for pairs in (5, 15):
        with database.transaction() as session:
            for arm, ratings in (("как сейчас", [3, 4] * pairs), ("0.35", [4, 5] * pairs)):
                for rating in ratings:
                    log = add_log(session, "Вопрос", "Ответ", rating=rating,
                                  client_key=uuid.uuid4().hex)  # fmt: skip
                    session.add(ExperimentAnswer(log_id=log.id, arm_id=ids[arm]))
        Referee(database, settings, Alerts(database, settings)).look(experiment.id)
    return experiment.id


def test_the_ab_section_shows_an_experiment_its_arms_and_its_decision_over_time(
    serve, page, make_settings, database
):
    settings = make_settings(ADMIN_API_KEY=ADMIN_KEY)
    experiment_id = looked_at_twice(database, settings)
    server = serve(settings)

    page.set_viewport_size({"width": 1280, "height": 1000})
    log_in(page, server.url)
    card = page.locator(".experiment", has_text="Порог кэша 0.35")
    card.wait_for()

    assert "настройки · завершён" in card.inner_text() and "победил «0.35»" in card.inner_text()
    assert (
        card.locator(".decision")
        .inner_text()
        .startswith(
            "есть победитель: «0.35» лучше контроля «как сейчас»: средняя оценка 4.50 против 3.50"
        )
    )
    rows = card.locator("table.arms tr")
    assert rows.count() == 3
    assert "3.50★ (контроль)" in rows.nth(1).inner_text()
    assert "4.50★ (+1.00; от 0.66 до 1.34)" in rows.nth(2).inner_text()
    chart = f"experiment-chart-{experiment_id}"
    wait_for_expression(page, f"Chart.getChart('{chart}') !== undefined")
    assert chart_points(page, chart) == 2, "one point per look of the worker"
    assert card.locator("button.pause, button.stop").count() == 0, "a finished one has no actions"
    screenshot(page, "dashboard_experiments")


def test_an_operator_starts_pauses_and_stops_an_experiment_and_a_second_is_refused(
    serve, page, make_settings
):
    server = serve(make_settings(ADMIN_API_KEY=ADMIN_KEY))
    log_in(page, server.url)

    def start(name: str) -> None:
        page.locator("#new-experiment summary").click()
        page.fill("#experiment-name", name)
        page.select_option("#experiment-setting", "CONTEXT_TOKEN_BUDGET")
        page.fill("#experiment-value", "200")
        page.click("#experiment-form button[type=submit]")

    start("Бюджет контекста 200")
    card = page.locator(".experiment", has_text="Бюджет контекста 200")
    card.wait_for()
    assert "идёт" in card.inner_text() and "Решение ещё не принималось" in card.inner_text()
    card.locator("button.pause").click()
    page.get_by_text("Эксперимент на паузе").wait_for()

    start("Ещё один")
    page.get_by_text("Эксперимент этого вида уже идёт").wait_for()
    assert page.locator(".experiment").count() == 1

    page.locator(".experiment button.stop").click()
    page.get_by_text("Эксперимент остановлен").wait_for()
    assert "завершён" in page.locator(".experiment").inner_text()
