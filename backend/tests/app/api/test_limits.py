"""Request bodies are capped before anything parses them; CORS is off unless configured."""

import json


def test_a_declared_oversized_body_is_refused_with_413(make_client, make_settings):
    client = make_client(make_settings(MAX_BODY_BYTES="1000"))
    body = json.dumps({"message": "а" * 2000}, ensure_ascii=False)

    response = client.post(
        "/api/voice/process", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json() == {"detail": "Слишком большой запрос: не больше 1000 байт"}


def test_a_streamed_oversized_body_is_refused_too(make_client, make_settings):
    client = make_client(make_settings(MAX_BODY_BYTES="1000"))
    payload = json.dumps({"message": "б" * 2000}, ensure_ascii=False).encode()

    def chunks():  # no Content-Length: the cap must count the bytes as they arrive
        for start in range(0, len(payload), 256):
            yield payload[start : start + 256]

    response = client.post(
        "/api/voice/process", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_bodies_within_the_cap_work_and_cors_is_off_by_default(client):
    response = client.post("/api/voice/process", json={"message": "Как часто моют подъезд?"})
    assert response.status_code == 200
    preflight = client.options(
        "/api/voice/process",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_configured_origins_get_cors_headers(make_client, make_settings):
    client = make_client(make_settings(CORS_ORIGINS="https://vasdom.example"))
    preflight = client.options(
        "/api/voice/process",
        headers={"Origin": "https://vasdom.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.headers["access-control-allow-origin"] == "https://vasdom.example"


def test_the_openai_door_takes_a_whole_conversation_beyond_the_general_cap(
    make_client, make_settings
):
    client = make_client(make_settings(MAX_BODY_BYTES="1000", MAX_CHAT_BODY_BYTES="200000"))
    history = [{"role": "assistant", "content": "Уборка по вторникам и пятницам. " * 20}] * 100
    messages = [*history, {"role": "user", "content": "Как часто моют подъезд?"}]

    door = client.post("/v1/chat/completions", json={"messages": messages})
    too_long = client.post("/v1/chat/completions", json={"messages": messages * 3})

    assert door.status_code == 200, door.text
    assert too_long.status_code == 413 and "200000" in too_long.json()["detail"]
