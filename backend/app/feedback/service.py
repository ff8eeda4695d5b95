"""Ratings from residents and corrections from operators.

A new rating of the same answer replaces the current one; every rating stays in
``voice_feedback`` so nothing a resident said is ever overwritten. Each judgement is
turned into verified-answer evidence in the same transaction, so the next request
already answers differently. Functions here flush; the caller's transaction commits.
"""

import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.access.identity import ClientIdentity
from app.access.rate_limit import RateLimits
from app.access.tokens import FeedbackTokens
from app.core.errors import FeedbackNotAllowedError
from app.db.database import Database
from app.db.models import AnswerSource, VoiceFeedback, VoiceLog
from app.feedback.dissatisfaction import estimated_dissatisfaction, needs_review
from app.records.dialog_log import get_log
from app.records.learning_queue import LearningQueue
from app.verified_answers.service import Learned, VerifiedAnswers


@dataclass(frozen=True)
class RecordedFeedback:
    log_id: int
    rating: int
    feedback_text: str | None
    #: What the rating did to the cache (the operators' queue hears of new answers).
    learned: Learned | None = None


@dataclass(frozen=True)
class RecordedCorrection:
    log_id: int
    verified_answer_id: uuid.UUID | None


def record_feedback(
    session: Session,
    verified: VerifiedAnswers,
    log_id: int | str,
    rating: int,
    feedback_text: str | None,
) -> RecordedFeedback:
    """The current rating, the history row and the evidence: one transaction, or none."""
    verified.begin_learning(session)
    log = get_log(session, log_id, lock=True)
    log.rating = rating
    log.feedback_text = feedback_text
    log.rated_at = func.now()
    session.add(VoiceFeedback(log_id=log.id, rating=rating, feedback_text=feedback_text))
    session.flush()
    learned = verified.learn_from_log(session, log)
    return RecordedFeedback(log.id, rating, feedback_text, learned)


def record_correction(
    session: Session,
    verified: VerifiedAnswers,
    log_id: int | str,
    corrected_response: str,
    operator: str,
) -> RecordedCorrection:
    """The correction is stored beside the original answer, becomes the verified answer
    for the question from the next request on, and marks the dialog as training data."""
    verified.begin_learning(session)
    log = get_log(session, log_id, lock=True)
    log.corrected_response = corrected_response
    log.corrected_by = operator
    log.corrected_at = func.now()
    log.training_example = True
    session.flush()
    answer = verified.learn_from_log(session, log).supported
    return RecordedCorrection(log.id, answer.id if answer else None)


@dataclass
class Ratings:
    """``POST /feedback``: only the conversation that got the answer may rate it, and no
    conversation or address faster than the rate limits allow."""

    database: Database
    verified: VerifiedAnswers
    tokens: FeedbackTokens
    limits: RateLimits
    learning: LearningQueue
    identity: ClientIdentity

    def rate(
        self,
        log_id: int | str,
        rating: int,
        feedback_text: str | None,
        *,
        token: str | None,
        client_address: str | None,
    ) -> "Future[RecordedFeedback]":
        """Check the rating may be given, then queue it with the process's learning: the
        future holds it once committed (or the reason it was refused)."""
        with self.database.transaction() as session:
            log = get_log(session, log_id)
            # The caller's own address pays for every attempt (guessing tokens is flooding
            # too); the conversation's bucket only once the token proves the caller is that
            # conversation, so failed guesses never lock the resident out of rating.
            self.limits.check_client(client_address)
            if not self.may_rate(log, token, client_address):
                raise FeedbackNotAllowedError()
            self.limits.check_conversation(log.session_id)
            self.verified.prepare(session, log, rating)
            log_id = log.id
        return self.learning.submit(
            lambda learning: record_feedback(learning, self.verified, log_id, rating, feedback_text)
        )

    def may_rate(self, log: VoiceLog, token: str | None, client_address: str | None) -> bool:
        """The answer's ``feedback_token`` proves the caller is the conversation that got it.
        The seed's clients send none: for them, as for their history, the client that
        received the answer (its address, counted as the trust model counts clients) stands
        in — so a stranger still cannot rate someone else's answer. A token that is sent
        must be the right one."""
        if token:
            return self.tokens.valid(token, log.id, log.session_id)
        key = self.identity.client_key(client_address)
        return key is not None and key == log.client_key


class LogOrder(StrEnum):
    NEWEST = "newest"
    DISSATISFACTION = "dissatisfaction"


@dataclass(frozen=True)
class LogFilters:
    """The review queue's filters; ``rating_lte=2, uncorrected=True`` is the queue itself."""

    rating_lte: int | None = None
    rating_gte: int | None = None
    unrated: bool = False
    uncorrected: bool = False
    answer_source: AnswerSource | None = None
    session_id: str | None = None
    #: Rated low, or re-asked or escalated without a rating (``dissatisfaction.py``).
    needs_review: bool = False

    def conditions(self) -> list:
        conditions = [needs_review()] if self.needs_review else []
        if self.rating_lte is not None:
            conditions.append(VoiceLog.rating <= self.rating_lte)
        if self.rating_gte is not None:
            conditions.append(VoiceLog.rating >= self.rating_gte)
        if self.unrated:
            conditions.append(VoiceLog.rating.is_(None))
        if self.uncorrected:
            conditions.append(VoiceLog.corrected_response.is_(None))
        if self.answer_source is not None:
            conditions.append(VoiceLog.answer_source == self.answer_source)
        if self.session_id is not None:
            conditions.append(VoiceLog.session_id == self.session_id)
        return conditions


def log_page(
    session: Session,
    filters: LogFilters,
    limit: int,
    offset: int,
    order: LogOrder = LogOrder.NEWEST,
) -> tuple[int, list[VoiceLog]]:
    """How many logs match, and one page of them, newest first (or the residents'
    probable dissatisfaction first, newest first among equals)."""
    conditions = filters.conditions()
    total = session.scalar(select(func.count()).select_from(VoiceLog).where(*conditions))
    first = [estimated_dissatisfaction().desc()] if order == LogOrder.DISSATISFACTION else []
    logs = session.scalars(
        select(VoiceLog)
        .where(*conditions)
        .order_by(*first, VoiceLog.created_at.desc(), VoiceLog.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return total or 0, list(logs)
