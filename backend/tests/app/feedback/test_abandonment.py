"""A conversation abandoned after an answer no model could give: marked once the
conversation has been quiet long enough, never when anything followed, never twice; the
operator sees it, the review queue holds it, the worker's tick marks it."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.container import build_services
from app.db.models import AnswerSignal, SignalKind
from app.feedback.abandonment import mark_abandoned
from tests.support.dialog import as_operator, ask
from tests.support.logs import add_log
from worker.schedule import run_schedule

QUIET = timedelta(minutes=30)


def offline_answer(session, minutes_ago: float, **values):
    when = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return add_log(session, "Где взять ключ от чердака?", "Извините, не могу ответить.",
                   model_used="offline", answer_source="fallback", created_at=when,
                   **values)  # fmt: skip


def test_only_offline_answers_left_quiet_long_enough_are_abandoned(database):
    with database.transaction() as session:
        left = offline_answer(session, 45)
        too_recent = offline_answer(session, 10)
        followed = offline_answer(session, 45)
        add_log(session, "Ладно, а когда уборка?", "Завтра.", session_id=followed.session_id,
                created_at=datetime.now(UTC) - timedelta(minutes=40))  # fmt: skip
        paid = add_log(session, "Когда уборка?", "По средам.",
                       created_at=datetime.now(UTC) - timedelta(hours=2))  # fmt: skip
        assert mark_abandoned(session, datetime.now(UTC), QUIET) == 1
        assert mark_abandoned(session, datetime.now(UTC), QUIET) == 0, "never twice"
        [signal] = session.scalars(select(AnswerSignal)).all()
    assert signal.log_id == left.id and signal.kind == SignalKind.ABANDONED
    assert signal.next_log_id is None
    assert signal.evidence == {"answer_source": "fallback", "quiet_minutes": 30}
    assert {too_recent.id, followed.id, paid.id}.isdisjoint({signal.log_id})


def test_the_operator_sees_an_abandoned_answer_in_the_review_queue(client, database):
    """The app without a model answers from the fact sheet or says it cannot."""
    answer = ask(client, "Где взять ключ от чердака?", "kv-21")
    with database.transaction() as session:
        mark_abandoned(session, datetime.now(UTC) + timedelta(hours=1), QUIET)

    [signal] = as_operator(client, "GET", f"/api/voice/logs/{answer['log_id']}/signals").json()
    assert signal["kind"] == "abandoned" and signal["next_log_id"] is None
    review = {"needs_review": "true", "order": "dissatisfaction"}
    queue = as_operator(client, "GET", "/api/voice/logs", params=review).json()
    assert [item["log_id"] for item in queue["items"]] == [answer["log_id"]]
    assert queue["items"][0]["signals"] == ["abandoned"]


def test_the_schedule_tick_marks_abandoned_conversations(database, settings, embedder):
    services = build_services(settings, embedder=embedder)
    try:
        with database.transaction() as session:
            offline_answer(session, 90)
        assert run_schedule(services)["abandoned_marked"] == 1
    finally:
        services.close()
