"""The golden set: which facts an answer must repeat, how the set is drawn and frozen, and
how answers are graded against it."""

import pytest
from sqlalchemy import select

from app.db.models import GoldenSetItem
from app.quality.golden_set import GoldenSet, fact_recall, key_facts, normalise_question
from tests.support.logs import add_log


def test_key_facts_are_numbers_dates_and_addresses():
    facts = key_facts(
        "Звоните 8-800-555-01-23 с 9:00 до 18:00, по вторникам и в среду; "
        "тариф 4 800 рублей; пишите на hr@vasdom.example. Средство безопасное, в мае скидка."
    )
    assert facts == {
        "#88005550123", "#900", "#1800", "#4800", "~вторн", "~среду", "~мае",
        "@hr@vasdom.example",
    }  # fmt: skip


def test_a_list_of_numbers_is_several_facts():
    assert key_facts("Моем 1, 3 и 5 этажи") == {"#1", "#3", "#5"}


def test_fact_recall_compares_long_numbers_digit_by_digit():
    approved = "Телефон диспетчерской: 8-800-555-01-23, уборка 2 раза в неделю."
    assert fact_recall(approved, "Наберите 8 (800) 555 01 23, моем дважды") == 0.5
    assert fact_recall(approved, "Звоните 88005550123; 2 раза в неделю") == 1.0
    assert fact_recall(approved, "Позвоните в диспетчерскую") == 0.0
    assert fact_recall("Уборка проводится регулярно.", "что угодно") is None


def test_questions_differing_in_case_and_punctuation_are_the_same_question():
    assert normalise_question("Как часто  моют подъезд?!") == "как часто моют подъезд"


@pytest.fixture
def golden(embedder):
    return GoldenSet(embedder, size=100, min_items=3, min_similarity=0.9)


def approved_history(session, count: int) -> None:
    for number in range(count):
        add_log(session, f"Вопрос номер {number}?", f"Ответ {number}", rating=5)
    add_log(session, "Вопрос номер 0", "Тот же вопрос ещё раз", rating=5)  # same question
    add_log(session, "Плохой вопрос?", "Плохой ответ", rating=1)
    add_log(session, "Исправленный вопрос?", "Неверно", rating=1, corrected_response="Верно: 7")
    session.commit()


def test_the_set_is_a_fifth_of_distinct_approved_questions_corrections_first(database, golden):
    with database.session() as session:
        approved_history(session, 19)  # 19 rated 5 + 1 corrected = 20 distinct questions
        size = golden.ensure(session)
        items = golden.items(session)

    assert size == 4 == len(items)
    assert items[0].origin == "correction" and items[0].approved_answer == "Верно: 7"
    assert len({item.question_key for item in items}) == 4
    assert "Плохой вопрос?" not in [item.question for item in items]


def test_one_conversation_gives_the_set_at_most_one_rated_question(database, golden):
    with database.session() as session:
        for number in range(10):
            add_log(session, f"Вопрос скрипта {number}?", "Ответ", rating=5, session_id="flood")
        candidates = golden.candidates(session)
    assert len(candidates) == 1 and candidates[0][2] == "rating"


def test_too_few_approved_questions_leave_no_set(database, embedder):
    golden = GoldenSet(embedder, size=100, min_items=25, min_similarity=0.9)
    with database.session() as session:
        approved_history(session, 19)
        assert golden.ensure(session) == 0
        assert golden.score(session, lambda question: "") is None


def test_the_set_is_frozen_until_it_is_rebuilt(database, golden):
    with database.session() as session:
        approved_history(session, 19)
        golden.ensure(session)
        first = [item.id for item in golden.items(session)]
        for number in range(20, 60):
            add_log(session, f"Новый вопрос {number}?", f"Новый ответ {number}", rating=5)
        session.commit()
        assert golden.ensure(session) == 4
        assert [item.id for item in golden.items(session)] == first
        assert golden.ensure(session, rebuild=True) == 12
        assert session.scalars(select(GoldenSetItem.id)).all() != first


def test_answers_are_graded_by_facts_or_by_meaning(database, golden):
    with database.session() as session:
        for question, answer in [
            ("Сколько стоит уборка?", "Уборка подъезда стоит 4800 рублей в месяц."),
            ("Когда моют окна?", "Окна моем 2 раза в год: в апреле и в сентябре."),
            ("Какие средства вы используете?", "Мы используем гипоаллергенные средства."),
        ]:
            add_log(session, question, "—", rating=1, corrected_response=answer)
        for number in range(12):  # fifteen approved questions: the three corrections held out
            add_log(session, f"Вопрос {number}?", "Ответ", rating=5)
        session.commit()
        golden.ensure(session)
        replies = {
            "Сколько стоит уборка?": "Стоимость — 4 800 рублей ежемесячно.",
            "Когда моют окна?": "Окна моем весной, в апреле.",  # misses 2 and September
            "Какие средства вы используете?": "Мы используем гипоаллергенные средства!",
        }
        report = golden.score(session, replies.__getitem__)

    by_question = {item.question: item for item in report.items}
    assert by_question["Сколько стоит уборка?"].agreement == 1.0
    assert by_question["Когда моют окна?"].agreement == pytest.approx(1 / 3)
    assert by_question["Какие средства вы используете?"].judged_by == "meaning"
    assert by_question["Какие средства вы используете?"].agreement == 1.0
    assert report.accuracy_score == pytest.approx((1 + 1 / 3 + 1) / 3)
    assert report.summary()["items_fully_correct"] == 2 and report.size == 3
