"""Logged dialogs written straight to the database, for tests that need a history."""

import uuid

from sqlalchemy.orm import Session

from app.db.models import VoiceLog


def add_log(session: Session, question: str, answer: str, **values) -> VoiceLog:
    """A paid-model answer to ``question`` in a conversation of its own; ``values`` set
    rating, correction, dates, session …"""
    defaults = {
        "model_used": "gpt-4o-mini",
        "answer_source": "llm",
        "response_time": 0.1,
        "session_id": f"s-{uuid.uuid4().hex[:12]}",
    }
    log = VoiceLog(
        user_message=question,
        ai_response=answer,
        **(defaults | values),
    )
    session.add(log)
    session.flush()
    return log
