"""Other front-ends and telephony bridges talk to the bot as to any OpenAI-compatible model:
the official ``openai`` client against the running app, same pipeline, same logs."""

import openai
import pytest

OPERATOR_KEY = "door-operator-key"


@pytest.fixture
def door(serve, make_settings):
    server = serve(make_settings(ADMIN_API_KEY=OPERATOR_KEY))
    return server, openai.OpenAI(base_url=server.url + "/v1", api_key="any", max_retries=0)


def test_the_openai_client_gets_the_bots_answer_and_can_pass_on_a_rating(door):
    server, client = door
    messages = [
        {"role": "system", "content": "Ты помощник"},
        {"role": "user", "content": "Как часто моют подъезд?"},
    ]
    completion = client.chat.completions.create(
        model="vasdom", messages=messages, user="bridge-call-1"
    )

    answer = completion.choices[0].message.content
    assert completion.object == "chat.completion" and "2 раза в неделю" in answer
    extra = completion.model_extra
    assert extra["session_id"] == "bridge-call-1" and extra["answer_source"] == "knowledge_base"
    logs = (
        openai.DefaultHttpxClient()
        .get(server.url + "/api/voice/logs", headers={"Authorization": f"Bearer {OPERATOR_KEY}"})
        .json()
    )
    assert logs["items"][0]["log_id"] == extra["log_id"]
    assert logs["items"][0]["user_message"] == "Как часто моют подъезд?"
    rated = openai.DefaultHttpxClient().post(
        server.url + "/api/voice/feedback",
        json={"log_id": extra["log_id"], "rating": 5, "feedback_token": extra["feedback_token"]},
    )
    assert rated.status_code == 200, rated.text


def test_a_request_the_door_cannot_answer_is_a_clear_4xx(door):
    _, client = door
    with pytest.raises(openai.UnprocessableEntityError) as streamed:
        client.chat.completions.create(
            model="vasdom", messages=[{"role": "user", "content": "Привет"}], stream=True
        )
    assert "stream" in streamed.value.response.json()["detail"]
    with pytest.raises(openai.UnprocessableEntityError) as empty:
        client.chat.completions.create(
            model="vasdom", messages=[{"role": "system", "content": "Ты помощник"}]
        )
    assert "role: user" in empty.value.response.json()["detail"]
