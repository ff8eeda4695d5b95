"""The scenario of the issue in a real browser: a resident rates an answer 2, an operator
finds it in the review queue and corrects it, a paraphrase asked in a new conversation gets
the corrected answer, labelled as verified, and the dashboard's charts show both."""

from tests.e2e.web.conftest import screenshot, wait_for_expression

ADMIN_KEY = "operator-secret-key"
CORRECTION = "Уборка подъезда стоит 4800 рублей в месяц, включая мытьё окон дважды в год."


def ask(page, question: str):
    """Send a question and wait for *its* answer (counted before sending: the page adds the
    question at once, the answer when it arrives)."""
    answered = page.locator(".message.answer").count()
    page.fill("#question", question)
    page.click("#send")
    wait_for_expression(page, f"document.querySelectorAll('.message.answer').length > {answered}")
    return page.locator(".message.answer").last


def test_a_low_rating_is_corrected_by_an_operator_and_served_to_the_next_resident(
    serve, browser, make_settings
):
    server = serve(make_settings(ADMIN_API_KEY=ADMIN_KEY))
    resident = browser.new_context(viewport={"width": 412, "height": 860})
    chat = resident.new_page()
    chat.goto(server.url + "/")
    first = ask(chat, "Сколько стоит уборка подъезда?")
    first.locator(".stars button[data-rating='2']").click()
    chat.get_by_text("Спасибо за оценку!").wait_for()

    operator = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    operator.goto(server.url + "/operator")
    operator.fill("#key", "wrong")
    operator.click("#login button")
    operator.locator("#status").wait_for()
    assert "Неверный" in operator.inner_text("#status")
    operator.fill("#key", ADMIN_KEY)
    operator.click("#login button")
    card = operator.locator(".review").first
    card.wait_for()
    assert "Сколько стоит уборка подъезда?" in card.inner_text() and "★★☆☆☆" in card.inner_text()
    card.locator("textarea").fill(CORRECTION)
    card.locator(".correction button").click()
    operator.get_by_text("Исправление сохранено").wait_for()
    operator.select_option("#filter", "")
    operator.locator(".review .corrected").first.wait_for()
    screenshot(operator, "operator")

    chat.click("#new-chat")
    answer = ask(chat, "Сколько стоит уборка подъезда")
    assert answer.locator(".source").inner_text() == "проверенный ответ"
    assert CORRECTION in answer.inner_text()
    resident.close()

    operator.goto(server.url + "/dashboard")  # same tab: still logged in
    wait_for_expression(operator, "Chart.getChart('chart-sources') !== undefined")
    assert "Вопросов: 2" in operator.inner_text("#totals")
    cache_share = operator.evaluate("Chart.getChart('chart-sources').data.datasets[0].data[0]")
    assert cache_share == 0.5  # the second question was answered by the verified answer


def test_an_empty_console_says_there_is_nothing_to_review(serve, page, make_settings):
    server = serve(make_settings(ADMIN_API_KEY=ADMIN_KEY))
    page.goto(server.url + "/operator")
    page.fill("#key", ADMIN_KEY)
    page.click("#login button")
    page.get_by_text("Здесь пока пусто").wait_for()
    page.get_by_text("Оповещений нет.").wait_for()


def test_an_operator_adds_a_fact_and_the_chat_answers_with_it(serve, browser, make_settings):
    server = serve(make_settings(ADMIN_API_KEY=ADMIN_KEY))
    operator = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    operator.goto(server.url + "/operator")
    operator.fill("#key", ADMIN_KEY)
    operator.click("#login button")
    operator.fill("#kb-title", "Парковка")
    operator.fill("#kb-content", "Парковку у подъезда чистим от снега до 8:00.")
    operator.click("#kb-add button")
    operator.get_by_text("Факт добавлен").wait_for()
    assert operator.locator("#kb textarea").evaluate_all(
        "nodes => nodes.some(n => n.value.includes('8:00'))"
    )

    chat = browser.new_context().new_page()
    chat.goto(server.url + "/")
    answer = ask(chat, "Когда чистят парковку от снега?")
    assert "8:00" in answer.inner_text() and answer.locator(".source").inner_text() == "база знаний"


def test_an_operator_logs_in_with_an_account(serve, page, make_settings, database):
    from app.access.operators import create_account

    with database.transaction() as session:
        create_account(session, "irina", "уборка-подъездов-2026")
    server = serve(make_settings())  # no admin key: accounts only
    page.goto(server.url + "/operator")
    page.fill("#username", "irina")
    page.fill("#password", "не тот пароль")
    page.click("#login button")
    page.get_by_text("Неверное имя оператора или пароль").wait_for()
    page.fill("#password", "уборка-подъездов-2026")
    page.click("#login button")
    page.get_by_text("Здесь пока пусто").wait_for()
    page.click("#logout")
    page.locator("#username").wait_for()


def test_the_console_shows_what_an_unrated_answer_was_told_by_the_next_message(
    serve, browser, make_settings
):
    """Nobody rates: the resident asks for a person after the answer; the answer is in the
    operator's default queue, and its card says why."""
    server = serve(make_settings(ADMIN_API_KEY=ADMIN_KEY))
    chat = browser.new_context(viewport={"width": 412, "height": 860}).new_page()
    chat.goto(server.url + "/")
    ask(chat, "Сколько стоит уборка подъезда?")
    ask(chat, "Бот не понимает, дайте менеджера")

    operator = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    operator.goto(server.url + "/operator")
    operator.fill("#key", ADMIN_KEY)
    operator.click("#login button")
    # The default queue holds it although nobody rated it: the resident asked for a person.
    card = operator.locator(".review").first
    card.locator(".signals").wait_for()
    assert "Сколько стоит уборка подъезда?" in card.inner_text()
    assert card.locator(".signals").inner_text() == "Без оценки, по диалогу: попросил оператора"
    assert operator.locator(".review").count() == 1, "the request itself needs no review"
    operator.select_option("#filter", "unrated=true")
    later = operator.locator(".review", has_text="дайте менеджера")
    later.wait_for()
    assert later.locator(".signals").count() == 0
    screenshot(operator, "operator_signals")


def test_the_console_marks_a_spoken_question_and_plays_its_stored_recording(
    serve, page, make_settings, database
):
    """The question of a spoken dialog is the recogniser's transcript: the card says so, and
    with ``STORE_AUDIO`` the operator can listen to what the resident actually said."""
    import numpy as np

    from app.db.models import VoiceRecording
    from app.voice.recordings import as_wav
    from tests.support.logs import add_log

    tone = 0.3 * np.sin(np.linspace(0, 2 * np.pi * 440 * 1.5, 24_000)).astype(np.float32)
    with database.transaction() as session:
        heard = add_log(session, "Как часто мой подъезд?", "Моем 2 раза в неделю.", rating=2,
                        asr_confidence=0.73)  # fmt: skip
        session.add(VoiceRecording(log_id=heard.id, wav=as_wav(tone), seconds=1.5))
        add_log(session, "Кто моет окна?", "Мы, дважды в год.", rating=1, asr_confidence=0.9)
    server = serve(make_settings(ADMIN_API_KEY=ADMIN_KEY, STORE_AUDIO="true"))
    page.goto(server.url + "/operator")
    page.fill("#key", ADMIN_KEY)
    page.click("#login button")
    card = page.locator(".review", has_text="Как часто мой подъезд?")
    card.locator(".heard").wait_for()
    assert card.locator(".heard").inner_text() == (
        "Вопрос задан голосом, распознан с уверенностью 73 %"
    )
    unrecorded = page.locator(".review", has_text="Кто моет окна?")
    assert unrecorded.locator(".listen").count() == 0, "no recording kept: nothing to play"

    card.locator(".listen").click()
    card.locator("audio").wait_for()
    wait_for_expression(page, "document.querySelector('.recording audio').duration > 1.4")
    duration = page.evaluate("document.querySelector('.recording audio').duration")
    assert abs(duration - 1.5) < 0.05, duration
    screenshot(page, "operator_recording")
