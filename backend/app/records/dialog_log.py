"""The logged dialogs (``voice_logs``) as other features look them up by the id a client
sent. Log ids are integers, as in the seed (``"log_id": 42``); an id of any other form names
no log, so it gets the same 404 as an unknown one, never a 422 or a database error."""

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import LogNotFoundError
from app.db.models import MAX_ROW_ID, VoiceLog

_DIGITS = re.compile(r"\d{1,19}")
#: ``model_used`` of an emergency answer: the knowledge base's emergency entry (its
#: ``answer_source`` is ``knowledge_base``), given before the cache or any model. Never
#: learnt from: a rating of it must not make it a verified answer a look-alike could get.
EMERGENCY_MODEL_NAME = "emergency"


def parse_log_id(log_id: int | str) -> int:
    if isinstance(log_id, bool):
        raise LogNotFoundError(log_id)
    if isinstance(log_id, int):
        number = log_id
    elif isinstance(log_id, str) and _DIGITS.fullmatch(log_id.strip()):
        number = int(log_id.strip())
    else:
        raise LogNotFoundError(log_id)
    if not 1 <= number <= MAX_ROW_ID:
        raise LogNotFoundError(log_id)
    return number


def get_log(session: Session, log_id: int | str, *, lock: bool = False) -> VoiceLog:
    """The log or a 404; ``lock`` row-locks it so concurrent judgements apply in turn."""
    query = select(VoiceLog).where(VoiceLog.id == parse_log_id(log_id))
    log = session.scalar(query.with_for_update() if lock else query)
    if log is None:
        raise LogNotFoundError(str(log_id))
    return log
