"""Ratings (``POST /feedback`` with the answer's token), operator corrections and the
review queue: exact shapes, and a clear 4xx for every bad input."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.db.models import AnswerEvidence, VoiceFeedback, VoiceLog
from tests.support.dialog import BOT_OPERATOR, ask, correct, rate_accepted, resident_address
from tests.support.feedback import rate


def test_rating_out_of_range_message_names_the_bound(client):
    detail = client.post(
        "/api/voice/feedback",
        json={"log_id": "00000000-0000-0000-0000-000000000000", "rating": 9},
    ).json()["detail"]
    assert "rating: значение должно быть не больше 5" in detail


def test_feedback_stores_the_rating_and_confirms(client, database):
    answer = ask(client, "Как часто моют подъезд?")
    log_id = answer["log_id"]
    response = rate(client, answer, 5, "Спасибо!")
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "message": "Спасибо за оценку!",
        "log_id": log_id,
        "rating": 5,
    }
    with database.session() as session:
        log = session.get(VoiceLog, log_id)
        assert (log.rating, log.feedback_text) == (5, "Спасибо!")
        assert log.rated_at is not None


def test_feedback_text_is_optional(client):
    assert rate(client, ask(client, "Как часто моют подъезд?"), 3).status_code == 200


def test_the_seed_body_stays_valid_with_the_token_in_a_header(client, database):
    answer = ask(client, "Как часто моют подъезд?")
    response = client.post(
        "/api/voice/feedback",
        json={"log_id": answer["log_id"], "rating": 4},
        headers={"X-Feedback-Token": answer["feedback_token"]},
    )
    assert response.status_code == 200
    with database.session() as session:
        assert session.get(VoiceLog, answer["log_id"]).rating == 4


def test_feedback_without_the_answers_token_is_refused_and_stores_nothing(client, database):
    answer = ask(client, "Как часто моют подъезд?", "flat-1")
    other = ask(client, "Как часто моют подъезд?", "flat-2")
    attempts = [
        {},  # a forged rating knows the log id only
        {"feedback_token": "x" * 22},
        {"feedback_token": other["feedback_token"]},  # another answer's token
    ]
    for extra in attempts:
        response = client.post(
            "/api/voice/feedback", json={"log_id": answer["log_id"], "rating": 1} | extra
        )
        assert response.status_code == 403, extra
        assert "feedback_token" in response.json()["detail"]
    with database.session() as session:
        assert session.get(VoiceLog, answer["log_id"]).rating is None
        assert session.scalar(select(func.count()).select_from(VoiceFeedback)) == 0


def test_a_seed_client_without_a_token_rates_the_answer_its_own_address_received(client, database):
    answer = ask(client, "Как часто моют подъезд?", "flat-1")
    seed_body = {"log_id": answer["log_id"], "rating": 5, "feedback_text": "Спасибо"}

    response = client.post(
        "/api/voice/feedback",
        json=seed_body,
        headers={"X-Forwarded-For": resident_address("flat-1")},
    )

    assert response.status_code == 200, response.text
    with database.session() as session:
        assert session.get(VoiceLog, answer["log_id"]).rating == 5


def test_without_a_token_another_address_cannot_rate_and_a_wrong_token_is_never_excused(
    client, database
):
    answer = ask(client, "Как часто моют подъезд?", "flat-1")
    rating = {"log_id": answer["log_id"], "rating": 1}

    stranger = client.post(
        "/api/voice/feedback", json=rating, headers={"X-Forwarded-For": resident_address("flat-2")}
    )
    wrong_token = client.post(
        "/api/voice/feedback",
        json=rating | {"feedback_token": "x" * 22},
        headers={"X-Forwarded-For": resident_address("flat-1")},
    )

    assert (stranger.status_code, wrong_token.status_code) == (403, 403)
    with database.session() as session:
        assert session.get(VoiceLog, answer["log_id"]).rating is None


def test_the_token_is_bound_to_the_log_and_its_conversation(client, database):
    from app.access.tokens import FeedbackTokens

    tokens = client.app.state.services.feedback_tokens
    answer = ask(client, "Как часто моют подъезд?", "flat-1")
    assert tokens.valid(answer["feedback_token"], answer["log_id"], "flat-1")
    assert not tokens.valid(answer["feedback_token"], answer["log_id"], "flat-2")
    assert not tokens.valid(answer["feedback_token"], str(uuid.uuid4()), "flat-1")
    assert not FeedbackTokens(b"another secret").valid(
        answer["feedback_token"], answer["log_id"], "flat-1"
    )


def test_rating_again_replaces_the_current_rating_and_keeps_history(client, database):
    answer = ask(client, "Как часто моют подъезд?")
    log_id = answer["log_id"]
    rate(client, answer, 2)
    rate(client, answer, 4)
    with database.session() as session:
        assert session.get(VoiceLog, log_id).rating == 4
        history = session.scalars(select(VoiceFeedback.rating).order_by(VoiceFeedback.id)).all()
    assert history == [2, 4]


def test_ratings_sent_at_once_are_each_kept_with_the_evidence_they_give(bot, database):
    answers = [ask(bot, "Как часто моют подъезд?", f"flat-{n}") for n in range(12)]
    ratings = [(answer, 5 if n % 3 else 1) for n, answer in enumerate(answers)]

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda rated: rate(bot, *rated).status_code, ratings))

    assert statuses == [200] * 12
    with database.session() as session:
        for answer, rating in ratings:
            assert session.get(VoiceLog, answer["log_id"]).rating == rating
        evidence = session.scalars(select(AnswerEvidence.log_id).where(AnswerEvidence.agrees))
        assert sorted(evidence) == sorted(a["log_id"] for a, rating in ratings if rating == 5)


@pytest.mark.parametrize(
    "log_id",
    [987654321, "987654321", str(uuid.uuid4()), "not-an-id", -1, "99999999999999999999999"],
)
def test_feedback_on_unknown_log_returns_404(client, log_id):
    response = client.post("/api/voice/feedback", json={"log_id": log_id, "rating": 5})
    assert response.status_code == 404
    assert "не найдена" in response.json()["detail"]


def test_a_rating_written_as_a_json_number_with_no_fraction_is_accepted(client, database):
    answer = ask(client, "Как часто моют подъезд?")
    response = client.post(
        "/api/voice/feedback",
        json={
            "log_id": answer["log_id"],
            "rating": 4.0,
            "feedback_token": answer["feedback_token"],
        },
    )
    assert response.status_code == 200 and response.json()["rating"] == 4


@pytest.mark.parametrize("rating", [0, 6, -1, 4.5, "5", None, True])
def test_feedback_with_rating_outside_1_to_5_is_refused_and_keeps_the_old_rating(
    client, database, rating
):
    answer = ask(client, "Как часто моют подъезд?")
    log_id = answer["log_id"]
    rate(client, answer, 4)
    response = client.post(
        "/api/voice/feedback",
        json={"log_id": log_id, "rating": rating, "feedback_token": answer["feedback_token"]},
    )
    assert response.status_code == 422
    assert "rating" in response.json()["detail"]
    with database.session() as session:
        assert session.get(VoiceLog, log_id).rating == 4


def test_correction_of_an_unknown_log_is_404_and_a_blank_one_is_422(bot):
    missing = bot.post(
        "/api/voice/logs/00000000-0000-0000-0000-000000000000/correction",
        json={"corrected_response": "Ответ", "operator": "Ирина"},
        headers=BOT_OPERATOR,
    )
    assert missing.status_code == 404
    log_id = ask(bot, "Как часто моют подъезд?")["log_id"]
    blank = bot.post(
        f"/api/voice/logs/{log_id}/correction",
        json={"corrected_response": "   ", "operator": "Ирина"},
        headers=BOT_OPERATOR,
    )
    assert blank.status_code == 422
    assert "не может быть пустым" in blank.json()["detail"]


def test_the_review_queue_lists_low_rated_uncorrected_answers_newest_first(bot):
    answers = [ask(bot, f"Вопрос номер {n} про уборку подъезда") for n in range(4)]
    ids = [answer["log_id"] for answer in answers]
    for answer, rating in zip(answers, [1, 2, 5, 2], strict=True):
        rate_accepted(bot, answer, rating)
    correct(bot, ids[3], "Исправленный ответ.")

    page = bot.get(
        "/api/voice/logs", params={"rating_lte": 2, "uncorrected": "true"}, headers=BOT_OPERATOR
    ).json()
    assert page["total"] == 2
    assert [item["log_id"] for item in page["items"]] == [ids[1], ids[0]]
    assert page["items"][0]["rating"] == 2
