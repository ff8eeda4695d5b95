"""The application as a whole: what is public, and the OpenAPI it publishes."""

import pytest


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
