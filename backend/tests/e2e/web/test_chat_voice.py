"""The chat page speaks, in a real browser whose microphone is Chromium's fake capture device
playing a question Festival said: push-to-talk and tap-to-talk both ask aloud, the bot's
transcript becomes the resident's message, the answer is played back; a refused microphone
is explained."""

import io
import wave

import pytest

pytest.importorskip("faster_whisper")

from tests.e2e.web.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    phone_page,
    screenshot,
    wait_for_expression,
)
from tests.support.speech import spoken

QUESTION = "Как позвонить диспетчеру?"
PHONE = "8-800-555-01-23"


@pytest.fixture(scope="module")
def question_file(tmp_path_factory):
    """The question as the microphone will hear it, and how long it lasts."""
    audio = spoken(QUESTION, rate=16_000, fmt="wav")
    with wave.open(io.BytesIO(audio)) as recording:
        seconds = recording.getnframes() / recording.getframerate()
    path = tmp_path_factory.mktemp("microphone") / "question.wav"
    path.write_bytes(audio)
    return path, seconds


@pytest.fixture(scope="module")
def microphone_browser(playwright, question_file):
    """Chromium whose microphone says the question once each time it is opened."""
    path, _ = question_file
    fake_microphone = [
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={path}%noloop",
    ]
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *fake_microphone]
    )
    yield browser
    browser.close()


@pytest.fixture
def speaking_page(microphone_browser):
    yield from phone_page(microphone_browser, permissions=["microphone"])


def answers(page) -> int:
    return page.locator(".message.answer").count()


def wait_for_answer(page, before: int):
    wait_for_expression(
        page, f"document.querySelectorAll('.message.answer').length > {before}", timeout=60
    )
    return page.locator(".message.question").last, page.locator(".message.answer").last


def answer_was_played(page) -> None:
    wait_for_expression(
        page, "['playing', 'ended'].includes(document.getElementById('answer-audio').dataset.state)"
    )


def test_a_resident_asks_aloud_by_holding_or_tapping_the_microphone_and_hears_the_answer(
    serve, speaking_page, make_settings, whisper_dir, question_file
):
    page = speaking_page
    _, seconds = question_file
    server = serve(make_settings(ASR_MODEL=whisper_dir))
    page.goto(server.url + "/")
    mic = page.locator("#mic")

    mic.hover()
    page.mouse.down()  # push-to-talk: held while speaking, released to send
    wait_for_expression(page, "document.getElementById('mic').classList.contains('recording')")
    page.wait_for_timeout(int(seconds * 1000) + 600)
    page.mouse.up()
    question, answer = wait_for_answer(page, 0)

    assert "диспетчер" in question.inner_text().lower()
    assert question.locator(".source").inner_text() == "голосом · распознано"
    assert PHONE in answer.inner_text()
    answer_was_played(page)
    screenshot(page, "chat_voice")

    mic.click()  # tap-to-talk: a tap starts, the next tap sends
    wait_for_expression(page, "document.getElementById('mic').classList.contains('recording')")
    page.wait_for_timeout(int(seconds * 1000) + 600)
    mic.click()
    question, answer = wait_for_answer(page, 1)
    assert "диспетчер" in question.inner_text().lower()
    assert PHONE in answer.inner_text()

    page.reload()  # the spoken turns are part of the kept conversation
    assert page.locator(".message.question.spoken").count() == 2
    page.locator(".message.answer").first.locator(".listen").click()
    answer_was_played(page)  # any answer can be heard again, from the speech endpoint


def test_a_refused_microphone_is_explained_and_typing_still_works(
    serve, microphone_browser, make_settings
):
    server = serve(make_settings())
    for page in phone_page(microphone_browser):  # no permission granted: the browser refuses
        page.goto(server.url + "/")
        page.locator("#mic").click()
        page.locator("#status").wait_for()
        assert "Доступ к микрофону запрещён" in page.inner_text("#status")
        assert page.locator(".message").count() == 0
        assert page.get_attribute("#mic", "aria-pressed") == "false"

        page.fill("#question", "Сколько стоит уборка подъезда?")
        page.click("#send")
        wait_for_answer(page, 0)
