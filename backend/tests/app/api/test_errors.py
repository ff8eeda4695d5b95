"""Whatever a caller sends, the answer is a documented 4xx with a message, never a 500."""

from tests.support.dialog import OPERATOR_HEADERS

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


def test_a_wrong_method_names_every_method_the_path_documents(client):
    for path, allowed in [
        ("/api/voice/knowledge", "GET, POST"),
        ("/api/voice/knowledge/1", "DELETE, PUT"),
        ("/api/voice/process", "POST"),
    ]:
        response = client.request("OPTIONS", path, headers=OPERATOR_HEADERS)
        assert response.status_code == 405
        assert response.headers["allow"] == allowed, path


def test_the_schema_states_the_limits_the_server_enforces(make_client, make_settings):
    client = make_client(make_settings(MAX_MESSAGE_LENGTH="300"))
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    message = schema["ProcessRequest"]["properties"]["message"]
    assert message["maxLength"] == 300 and message["minLength"] == 1 and message["pattern"]
    assert client.post("/api/voice/process", json={"message": "а" * 301}).status_code == 422
    assert client.post("/api/voice/process", json={"message": "а" * 300}).status_code == 200
    assert set(schema["ProcessResponse"]["properties"]["answer_source"]["$ref"].split("/")) & {
        "AnswerSource"
    }
    assert schema["AnswerSource"]["enum"] == ["cache", "local", "llm", "knowledge_base", "fallback"]
