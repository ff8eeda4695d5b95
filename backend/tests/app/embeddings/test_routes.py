"""Similar past dialogs and the vector backfill, for operators."""

import pytest
from sqlalchemy import func, select

from app.db.models import VoiceEmbedding
from tests.support.dialog import OPERATOR_HEADERS, as_operator, ask


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
    assert as_operator(client, "GET", "/api/voice/similar/987654321").status_code == 404


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


@pytest.mark.parametrize("log_id", ["0", "-3", "abc", "1.5", "99999999999999999999999"])
def test_a_log_id_of_any_other_form_is_a_404_not_a_422(client, log_id):
    response = as_operator(client, "GET", f"/api/voice/similar/{log_id}")
    assert response.status_code == 404
    assert "не найдена" in response.json()["detail"]
