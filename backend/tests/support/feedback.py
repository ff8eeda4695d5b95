"""Rating answers the way the chat page does: with the token ``process`` returned."""

from fastapi.testclient import TestClient
from httpx import Response


def rate(
    client: TestClient, answer: dict, rating: int, feedback_text: str | None = None
) -> Response:
    """``answer`` is the JSON body ``/api/voice/process`` returned."""
    body = {
        "log_id": answer["log_id"],
        "rating": rating,
        "feedback_token": answer["feedback_token"],
    }
    if feedback_text is not None:
        body["feedback_text"] = feedback_text
    return client.post("/api/voice/feedback", json=body)
