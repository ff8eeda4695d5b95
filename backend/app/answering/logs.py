"""The logged dialogs (``voice_logs``) as other features look them up by the id a client
sent: a malformed id names no log, so it gets the same 404 as an unknown one."""

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import LogNotFoundError
from app.db.models import VoiceLog


def parse_log_id(log_id: str | uuid.UUID) -> uuid.UUID:
    if isinstance(log_id, uuid.UUID):
        return log_id
    try:
        return uuid.UUID(log_id)
    except ValueError as error:
        raise LogNotFoundError(log_id) from error


def get_log(session: Session, log_id: str | uuid.UUID, *, lock: bool = False) -> VoiceLog:
    """The log or a 404; ``lock`` row-locks it so concurrent judgements apply in turn."""
    query = select(VoiceLog).where(VoiceLog.id == parse_log_id(log_id))
    log = session.scalar(query.with_for_update() if lock else query)
    if log is None:
        raise LogNotFoundError(str(log_id))
    return log
