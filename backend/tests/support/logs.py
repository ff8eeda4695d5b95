"""Logged dialogs written straight to the database, for tests that need a history."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from app.db.models import AnswerSignal, SignalKind, VoiceLog


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


def unrated_history(
    session: Session, helped: int, unhelped: int, *, client_key: str | None = None
) -> None:
    """Unrated answers of the last day, each in its own conversation (its own client,
    unless ``client_key`` makes them one): ``unhelped`` of them re-asked by the next
    message, committed."""
    when = datetime.now(UTC) - timedelta(days=1)
    for number in range(helped + unhelped):
        log = add_log(session, f"Вопрос {number}", "Ответ", created_at=when,
                      client_key=client_key or f"client-{uuid.uuid4().hex[:8]}")  # fmt: skip
        if number < unhelped:
            again = add_log(session, f"Вопрос {number} ещё раз", "Ответ", created_at=when,
                            session_id=log.session_id, client_key=log.client_key)  # fmt: skip
            signal = AnswerSignal(log_id=log.id, next_log_id=again.id, kind=SignalKind.RE_ASK)
            session.add(signal)
    session.commit()
