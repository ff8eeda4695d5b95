"""Ratings from residents. A new rating of the same answer replaces the current one; every
rating stays in ``voice_feedback`` so nothing a resident said is ever overwritten."""

import uuid
from dataclasses import dataclass

from sqlalchemy import func, update

from app.core.errors import LogNotFoundError
from app.db.database import Database
from app.db.models import VoiceFeedback, VoiceLog


@dataclass(frozen=True)
class RecordedFeedback:
    log_id: uuid.UUID
    rating: int
    feedback_text: str | None


def parse_log_id(log_id: str | uuid.UUID) -> uuid.UUID:
    """A malformed id names no log: the caller gets the same 404 as for an unknown one."""
    if isinstance(log_id, uuid.UUID):
        return log_id
    try:
        return uuid.UUID(log_id)
    except ValueError as error:
        raise LogNotFoundError(log_id) from error


def record_feedback(
    database: Database, log_id: str, rating: int, feedback_text: str | None
) -> RecordedFeedback:
    """One transaction: the current rating on the log (a row lock orders concurrent
    ratings) and the history row, or neither."""
    log_uuid = parse_log_id(log_id)
    with database.session() as session:
        updated = session.execute(
            update(VoiceLog)
            .where(VoiceLog.id == log_uuid)
            .values(rating=rating, feedback_text=feedback_text, rated_at=func.now())
            .returning(VoiceLog.id)
        ).first()
        if updated is None:
            raise LogNotFoundError(log_id)
        session.add(VoiceFeedback(log_id=log_uuid, rating=rating, feedback_text=feedback_text))
        session.commit()
    return RecordedFeedback(log_uuid, rating, feedback_text)
