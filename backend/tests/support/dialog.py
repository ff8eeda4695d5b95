"""A resident and an operator talking to the service through its HTTP API, as the chat
page and the operator console do."""

import hashlib
import uuid

from fastapi.testclient import TestClient
from httpx import Response

from tests.support.feedback import rate

#: The operator key of the default test app (the ``settings`` fixture).
OPERATOR_KEY = "test-operator-key"
OPERATOR_HEADERS = {"Authorization": f"Bearer {OPERATOR_KEY}"}

#: The operator key of the ``bot`` fixture (``tests/conftest.py``).
BOT_ADMIN_KEY = "operator-secret-key"
BOT_OPERATOR = {"Authorization": f"Bearer {BOT_ADMIN_KEY}"}


def resident_address(session_id: str | None) -> str:
    """Each conversation is a different resident, as behind a real reverse proxy: its own
    client address, the same for every turn of that conversation."""
    digest = hashlib.sha256((session_id or uuid.uuid4().hex).encode()).digest()
    return f"10.{digest[0]}.{digest[1]}.{digest[2] or 1}"


def ask(
    client: TestClient,
    message: str,
    session_id: str | None = None,
    *,
    address: str | None = None,
    conversation_token: str | None = None,
) -> dict:
    """The ``process`` answer; the call must succeed. The resident's address is the
    conversation's own unless ``address`` names one (an attacker's, say)."""
    body = {"message": message} if session_id is None else {"message": message,
                                                            "session_id": session_id}  # fmt: skip
    if conversation_token is not None:
        body["conversation_token"] = conversation_token
    headers = {"X-Forwarded-For": address or resident_address(session_id)}
    response = client.post("/api/voice/process", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def say(
    client: TestClient,
    audio: bytes,
    session_id: str,
    *,
    filename: str = "question.webm",
    **fields: str,
) -> Response:
    """A spoken question (multipart ``audio``) from the conversation's own resident."""
    return client.post(
        "/api/voice/process",
        files={"audio": (filename, audio)},
        data={"session_id": session_id, **fields},
        headers={"X-Forwarded-For": resident_address(session_id)},
    )


def as_operator(client: TestClient, method: str, path: str, **options) -> Response:
    """A call with the operator key of the default test app."""
    return client.request(method, path, headers=OPERATOR_HEADERS, **options)


def rate_accepted(client: TestClient, answer: dict, rating: int) -> None:
    """A rating the service must accept."""
    response = rate(client, answer, rating)
    assert response.status_code == 200, response.text


def correct(client: TestClient, log_id: str, text: str, operator: str = "Ирина") -> dict:
    """An operator's correction through the ``bot`` fixture's key; it must succeed."""
    response = client.post(
        f"/api/voice/logs/{log_id}/correction",
        json={"corrected_response": text, "operator": operator},
        headers=BOT_OPERATOR,
    )
    assert response.status_code == 200, response.text
    return response.json()
