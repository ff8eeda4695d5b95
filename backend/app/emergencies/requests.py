"""The question inside a raw request body, for the load shedder to ask "is it an emergency?"
before the route parses anything: a full replica still lets an emergency in (within
``EMERGENCY_RESERVED_SLOTS``), since its answer is a fixed text that costs no model."""

import json

from app.emergencies.service import EmergencyDesk

#: Past this many characters a "question" is not looked at (the route refuses it anyway).
MAX_LOOKED_AT = 2000


def question_in(path: str, body: bytes) -> str | None:
    """The resident's words in a ``process`` or chat-completions body (None: none found)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    if path == "/api/voice/process":
        text = data.get("message")
    else:
        messages = data.get("messages")
        users = (
            [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
            if (isinstance(messages, list))
            else []
        )
        text = users[-1].get("content") if users else None
    return text[:MAX_LOOKED_AT] if isinstance(text, str) else None


def is_urgent(desk: EmergencyDesk | None, path: str, body: bytes) -> bool:
    question = question_in(path, body) if desk is not None else None
    return question is not None and desk.urgent(question)
