"""Whatever a caller sends, the answer is a documented 4xx with a message, never a 500."""

from tests.conftest import OPERATOR_HEADERS

BEYOND_BIGINT = 2**63


def test_ids_and_offsets_past_the_databases_range_are_4xx_not_500(client):
    for method, path in [
        ("GET", f"/api/voice/verified-answers?offset={BEYOND_BIGINT}"),
        ("GET", f"/api/voice/retraining/runs/{BEYOND_BIGINT}"),
        ("DELETE", f"/api/voice/knowledge/{BEYOND_BIGINT}"),
        ("POST", f"/api/voice/models/{BEYOND_BIGINT}/activate"),
        ("GET", f"/api/voice/training-datasets/{BEYOND_BIGINT}/download"),
    ]:
        response = client.request(method, path, headers=OPERATOR_HEADERS)
        assert response.status_code in (404, 422), (path, response.text)
        assert isinstance(response.json()["detail"], str)


def test_the_schema_documents_the_error_answers_and_csv_tables(client):
    schema = client.get("/openapi.json").json()
    process = schema["paths"]["/api/voice/process"]["post"]["responses"]
    assert {"400", "413", "422", "429", "503"} <= process.keys()
    assert process["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorResponse"
    )
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    logs = schema["paths"]["/api/voice/logs"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= logs.keys()
