"""The OpenAI-compatible door's request body: what the published schema says is what the
door enforces, and a malformed message is a 422 that says which part, never a 500."""

import pytest

COMPLETIONS = "/v1/chat/completions"


@pytest.mark.parametrize("text", [123, None, ["Когда уборка?"], {"value": "Когда уборка?"}])
def test_a_text_part_whose_text_is_not_a_string_is_a_422_naming_it(client, text):
    body = {"messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]}

    response = client.post(COMPLETIONS, json=body)

    assert response.status_code == 422, response.text
    assert "content" in response.json()["detail"]


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "system", "content": "Ты помощник"}],
        [{"role": "user", "content": "   "}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
        [{"role": "user", "content": None}],
    ],
)
def test_messages_without_user_text_are_refused_with_the_reason(client, messages):
    response = client.post(COMPLETIONS, json={"messages": messages})

    assert response.status_code == 422
    assert "role: user" in response.json()["detail"]


def test_other_kinds_of_parts_are_passed_over_and_the_text_is_answered(client):
    parts = [{"type": "image_url", "image_url": {"url": "x"}}, {"type": "text", "text": "Привет"}]
    response = client.post(COMPLETIONS, json={"messages": [{"role": "user", "content": parts}]})

    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"]


def test_the_schema_states_that_a_user_turn_must_carry_text(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    request = schemas["ChatCompletionRequest"]["properties"]
    message = schemas["ChatMessage"]

    assert request["messages"]["contains"]["properties"]["role"] == {"const": "user"}
    assert message["if"]["properties"]["role"] == {"const": "user"}
    assert message["then"]["required"] == ["content"]
    assert request["stream"]["enum"] == [False]
