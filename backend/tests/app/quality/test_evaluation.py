"""evaluate_model's figures on a known history, and golden-set accuracy of the model that
answers (the paid model here: a real OpenAI-compatible server on 127.0.0.1)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.container import build_services
from app.db.models import AnswerSignal, ModelMetrics
from tests.support.logs import add_log

STUB_REPLY = "Влажная уборка проводится 2 раза в неделю."


@pytest.fixture
def services(make_settings, llm_server, embedder):
    llm_server.behaviour.reply = STUB_REPLY
    settings = make_settings(
        EMERGENT_LLM_KEY="test-key",
        LLM_BASE_URL=llm_server.base_url,
        GOLDEN_SET_MIN_ITEMS="2",
        MIN_RATED_FOR_DECISION="4",
    )
    built = build_services(settings, embedder=embedder)
    yield built
    built.close()


def known_history(session) -> None:
    """Ten interactions in the period, two outside it."""
    now = datetime.now(UTC)
    recent = now - timedelta(days=1)
    rows = [
        # source, rating, seconds, cost
        ("cache", 5, 0.1, 0.0),
        ("cache", 5, 0.1, 0.0),
        ("cache", 2, 0.1, 0.0),
        ("cache", None, 0.1, 0.0),
        ("local", 4, 0.5, 0.0),
        ("llm", 1, 1.0, 0.002),
        ("llm", 3, 1.0, 0.002),
        ("llm", None, 2.0, 0.002),
        ("llm", None, 3.0, 0.002),
        ("fallback", None, 0.2, 0.0),
    ]
    for number, (source, rating, seconds, cost) in enumerate(rows):
        add_log(session, f"Вопрос {number}", f"Ответ {number}", answer_source=source,
                rating=rating, response_time=seconds, cost_usd=cost, created_at=recent)  # fmt: skip
    old = now - timedelta(days=30)
    add_log(session, "Старый", "Старый", rating=1, created_at=old)
    add_log(session, "Старый 2", "Старый", rating=1, created_at=old)
    # Approved dialogs for the golden set (corrections), outside the period.
    add_log(session, "Как часто моют подъезд?", "—", rating=1, created_at=old,
            corrected_response="Моем 2 раза в неделю, по вторникам и пятницам.")  # fmt: skip
    add_log(session, "Сколько стоит уборка?", "—", rating=1, created_at=old,
            corrected_response="4800 рублей в месяц за подъезд.")  # fmt: skip
    for number in range(6):  # with the two 5-star answers above: ten approved questions
        add_log(session, f"Одобренный {number}", "Хороший ответ", rating=5, created_at=old)
    session.commit()


def test_period_metrics_follow_their_definitions(services):
    with services.database.session() as session:
        known_history(session)

    evaluation = services.evaluator.evaluate(7, golden=False)
    m = evaluation.metrics

    assert (m.interactions, m.rated) == (10, 6)
    assert m.avg_rating == pytest.approx(20 / 6, abs=1e-3)
    assert m.rating_coverage == 0.6
    assert m.satisfaction == 0.5  # 5, 5, 4 of six
    assert m.negative_share == pytest.approx(2 / 6, abs=1e-4)  # 2 and 1
    assert (m.cache_share, m.local_share, m.paid_share) == (0.4, 0.1, 0.4)
    assert m.cost_usd == pytest.approx(0.008) and m.cost_per_interaction == pytest.approx(0.0008)
    assert m.search_accuracy == pytest.approx(2 / 3, abs=1e-4)  # cache answers rated 5, 5, 2
    assert m.p50_response_time == pytest.approx(0.35) and m.p95_response_time > 2.0
    assert m.avg_response_time == pytest.approx(0.81)


def test_implicit_satisfaction_counts_answers_neither_re_asked_nor_escalated(services):
    """Twelve answers nobody rated, four of them followed by a message that re-asked,
    escalated or thanked (one both re-asked and then escalated: counted once)."""
    recent = datetime.now(UTC) - timedelta(days=1)
    said = [(0, "re_ask"), (1, "escalation"), (2, "thanks"), (3, "re_ask"), (3, "escalation")]
    with services.database.session() as session:
        answers = [add_log(session, f"Вопрос {n}", "Ответ", created_at=recent) for n in range(7)]
        replies = [add_log(session, f"Ответ жильца {n}", "Ответ", created_at=recent)
                   for n in range(len(said))]  # fmt: skip
        session.flush()
        for reply, (answer, kind) in zip(replies, said, strict=True):
            session.add(AnswerSignal(log_id=answers[answer].id, next_log_id=reply.id, kind=kind))
        session.commit()

    m = services.evaluator.evaluate(7, golden=False).metrics

    assert m.interactions == 12 and m.rated == 0 and m.satisfaction is None
    assert (m.re_asked, m.escalated, m.thanked) == (2, 2, 1)
    assert m.implicit_satisfaction == pytest.approx(9 / 12, abs=1e-4)  # 0, 1 and 3 did not help


def test_an_evaluation_grades_the_answering_model_on_the_golden_set_and_is_stored(
    services, llm_server
):
    with services.database.session() as session:
        known_history(session)

    evaluation = services.evaluator.evaluate(7)

    # Ten approved questions, a fifth held out: the two corrections (they come first).
    # The stub says "2 раза в неделю": first question #2 found, the weekdays not (1/3);
    # second, 4800 missing (0).
    assert evaluation.golden.size == 2
    assert evaluation.golden.accuracy_score == pytest.approx((1 / 3 + 0) / 2)
    asked = [r["messages"][-1]["content"] for r in llm_server.requests]
    assert sorted(asked) == ["Как часто моют подъезд?", "Сколько стоит уборка?"]
    # No past dialogs in the prompt: the approved answers must not leak into it.
    assert not any("4800 рублей в месяц за подъезд" in str(r) for r in llm_server.requests)
    assert evaluation.decision.required  # avg 3.33 < 3.5, satisfaction 50 %, negative 33 %
    with services.database.session() as session:
        row = session.scalars(select(ModelMetrics)).one()
    assert row.id == evaluation.model_metrics_id and row.model_version == "gpt-4o-mini"
    assert row.accuracy_score == pytest.approx(1 / 6) and row.n_interactions == 10
    assert row.details["golden_set_size"] == 2 and row.details["reasons"]


def test_an_empty_database_has_nothing_to_evaluate_and_stores_nothing(services):
    evaluation = services.evaluator.evaluate(7)
    assert evaluation.empty and evaluation.model_metrics_id is None
    assert evaluation.notes == ["no golden set yet: it needs 10 distinct approved questions"]
