"""Logged dialogs written straight to the database, for tests that need a history."""

import uuid
from datetime import UTC, datetime, timedelta

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


def rated_history(
    session: Session, ratings: list[int], *, unrated: int = 0, days_ago: float = 1
) -> None:
    """One log per rating (and ``unrated`` more), ``days_ago`` old, committed."""
    when = datetime.now(UTC) - timedelta(days=days_ago)
    for number, rating in enumerate(ratings):
        add_log(session, f"Вопрос {number}", f"Ответ {number}", rating=rating, created_at=when)
    for number in range(unrated):
        add_log(session, f"Без оценки {number}", "Ответ", created_at=when)
    session.commit()
