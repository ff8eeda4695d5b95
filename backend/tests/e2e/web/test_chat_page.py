"""The resident chat in a real browser: ask, see where the answer came from, rate it,
keep the conversation across a reload, and read clear messages when something fails."""

from sqlalchemy import select

from app.db.models import VoiceLog
from tests.e2e.web.conftest import screenshot


def test_a_resident_asks_rates_and_finds_the_conversation_after_a_reload(
    serve, page, make_settings, database
):
    server = serve(make_settings())
    page.goto(server.url + "/")
    assert "Здесь пока пусто" in page.inner_text("main")

    page.fill("#question", "Сколько стоит уборка подъезда?")
    page.click("#send")
    answer = page.locator(".message.answer").first
    answer.wait_for()

    assert "4800" in answer.inner_text()  # the knowledge base answers without a paid model
    assert answer.locator(".source").inner_text() == "база знаний"
    answer.locator(".stars button[data-rating='2']").click()
    page.get_by_text("Спасибо за оценку!").wait_for()
    answer.locator(".comment input").fill("Хотелось бы подробнее")
    answer.locator(".comment button").click()
    page.wait_for_timeout(300)
    screenshot(page, "chat")

    page.reload()
    assert page.locator(".message.question").inner_text() == "Сколько стоит уборка подъезда?"
    assert page.locator(".stars button.on").count() == 2
    with database.session() as session:
        log = session.scalars(select(VoiceLog)).one()
    assert log.rating == 2 and log.feedback_text == "Хотелось бы подробнее"


def test_a_refused_question_and_a_service_that_is_down_are_explained(serve, page, make_settings):
    server = serve(make_settings(MAX_MESSAGE_LENGTH="20"))
    page.goto(server.url + "/")

    page.fill("#question", "Очень длинный вопрос про уборку подъезда")
    page.click("#send")
    page.locator("#status").wait_for()
    assert "20" in page.inner_text("#status") and page.locator(".message").count() == 0

    page.route("**/api/voice/process", lambda route: route.abort())
    page.fill("#question", "Короткий вопрос")
    page.click("#send")
    page.get_by_text("Сервис сейчас недоступен").wait_for()
