"""Courtesy in a message: asking for a person, a short thanks — on real Russian phrasings,
and on look-alikes that are neither."""

import pytest

from app.language.courtesy import asks_for_a_person, says_thanks
from tests.support.dev_data import ESCALATION_INTENTS, dev_questions


@pytest.mark.parametrize("message", [
    "Соедините с оператором", "дайте телефон диспетчера", "Бот не понимает, дайте менеджера",
    "оператор!", "Хочу поговорить с человеком", "можно живого человека?",
    "Позовите сотрудника пожалуйста", "переключите на оператора",
])  # fmt: skip
def test_a_request_for_a_person_is_an_escalation(message):
    assert asks_for_a_person(message)


@pytest.mark.parametrize("message", [
    "Как связаться с диспетчерской?", "Диспетчер приходил вчера, когда уберут?",
    "номер телефона управляющей компании", "Человек из соседнего подъезда мусорит",
])  # fmt: skip
def test_a_question_that_mentions_people_is_not(message):
    assert asks_for_a_person(message) is None


@pytest.mark.parametrize("message", [
    "Спасибо, понятно", "спасибо!", "Ясно, благодарю", "ок", "Спасибо большое за ответ",
])  # fmt: skip
def test_a_short_closing_message_is_thanks(message):
    assert says_thanks(message)


@pytest.mark.parametrize("message", [
    "Спасибо, а сколько это стоит?", "спасибо, но мне не ответили", "ничего не понятно",
    "понятно, а если дом выше 9 этажей", "Хорошо бы мыть чаще", "Понятно. Когда моют окна?",
])  # fmt: skip
def test_thanks_with_a_new_question_or_a_complaint_is_not(message):
    assert says_thanks(message) is None


def test_no_ordinary_dev_question_reads_as_an_escalation_or_thanks():
    """500 residents' questions of 50 intents: only the ones asking for a person (or a
    dispatcher's phone) are escalations; none is thanks."""
    flagged = {intent for intent, question in dev_questions() if asks_for_a_person(question)}
    assert flagged <= ESCALATION_INTENTS
    assert not [q for _, q in dev_questions() if says_thanks(q)]
