"""Ratings from residents and corrections from operators.

A new rating of the same answer replaces the current one; every rating stays in
``voice_feedback`` so nothing a resident said is ever overwritten. Each judgement is
turned into verified-answer evidence in the same transaction, so the next request
already answers differently.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select

from app.core.errors import LogNotFoundError
from app.db.database import Database
from app.db.models import VoiceFeedback, VoiceLog
from app.verified_answers.service import VerifiedAnswers


@dataclass(frozen=True)
class RecordedFeedback:
    log_id: uuid.UUID
    rating: int
    feedback_text: str | None


@dataclass(frozen=True)
class RecordedCorrection:
    log_id: uuid.UUID
    verified_answer_id: uuid.UUID | None


def parse_log_id(log_id: str | uuid.UUID) -> uuid.UUID:
    """A malformed id names no log: the caller gets the same 404 as for an unknown one."""
    if isinstance(log_id, uuid.UUID):
        return log_id
    try:
        return uuid.UUID(log_id)
    except ValueError as error:
        raise LogNotFoundError(log_id) from error


def _locked_log(session, log_id: str | uuid.UUID) -> VoiceLog:
    """The log, row-locked: concurrent judgements of one answer apply one after another."""
    log = session.scalar(
        select(VoiceLog).where(VoiceLog.id == parse_log_id(log_id)).with_for_update()
    )
    if log is None:
        raise LogNotFoundError(str(log_id))
    return log


def record_feedback(
    database: Database,
    verified: VerifiedAnswers,
    log_id: str,
    rating: int,
    feedback_text: str | None,
) -> RecordedFeedback:
    """One transaction: the current rating, the history row and the evidence, or none."""
    with database.session() as session:
        log = _locked_log(session, log_id)
        log.rating = rating
        log.feedback_text = feedback_text
        log.rated_at = func.now()
        session.add(VoiceFeedback(log_id=log.id, rating=rating, feedback_text=feedback_text))
        session.flush()
        verified.learn_from_log(session, log)
        session.commit()
        return RecordedFeedback(log.id, rating, feedback_text)


def record_correction(
    database: Database,
    verified: VerifiedAnswers,
    log_id: str,
    corrected_response: str,
    operator: str,
) -> RecordedCorrection:
    """The correction is stored beside the original answer, becomes the verified answer
    for the question from the next request on, and marks the dialog as training data."""
    with database.session() as session:
        log = _locked_log(session, log_id)
        log.corrected_response = corrected_response
        log.corrected_by = operator
        log.corrected_at = func.now()
        log.training_example = True
        session.flush()
        answer = verified.learn_from_log(session, log)
        session.commit()
        return RecordedCorrection(log.id, answer.id if answer else None)
