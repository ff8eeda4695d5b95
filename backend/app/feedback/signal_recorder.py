"""Recording implicit signals: after each response, the new message is read against the
answer before it in the *same conversation* (``implicit_signals.read_next_message``).

"Same conversation" follows the trust model, as the history a model is shown does: the
previous turn counts only when the same client sent it, or when both were asked with the
conversation's token. Knowing a session id lets nobody attach "re-asked" or "thanks" to
somebody else's answer. Runs after the response is sent; a failure loses one signal, never
an answer. Each signal is learnt from as it is stored (weighed below a rating).
"""

import logging
from dataclasses import replace

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.alerts.service import Alerts
from app.core.config import Settings
from app.db.database import Database
from app.db.models import AnswerSignal, AnswerSource, VoiceLog
from app.embeddings.service import EmbeddingService
from app.feedback.implicit_signals import ReAskThresholds, Signal, read_next_message
from app.records.dialog_log import get_log
from app.records.learning_queue import LearningQueue
from app.verified_answers.index import VerifiedAnswerIndex
from app.verified_answers.review import Announcement, announce, announcement
from app.verified_answers.service import VerifiedAnswers

logger = logging.getLogger(__name__)


def previous_turn(session: Session, log: VoiceLog) -> VoiceLog | None:
    """The turn just before ``log`` in its conversation, as its sender may see it."""
    visible = [VoiceLog.client_key == log.client_key] if log.client_key else []
    if log.conversation_bound:
        visible.append(VoiceLog.conversation_bound.is_(True))
    if not visible:
        return None
    return session.scalars(
        select(VoiceLog)
        .where(VoiceLog.session_id == log.session_id, VoiceLog.id < log.id, or_(*visible))
        .order_by(VoiceLog.id.desc())
        .limit(1)
    ).first()


class SignalRecorder:
    def __init__(
        self,
        database: Database,
        embeddings: EmbeddingService,
        settings: Settings,
        *,
        alerts: Alerts,
        verified: VerifiedAnswers | None = None,
        index: VerifiedAnswerIndex | None = None,
        learning: LearningQueue | None = None,
    ):
        self.database = database
        self.alerts = alerts
        #: Commits each signal with what it teaches, batched with the process's ratings.
        self.learning = learning or LearningQueue(database)
        self.embeddings = embeddings
        self.settings = settings
        #: Learns from each new signal (None: record only).
        self.verified = verified
        #: The cache's matcher, which helps tell a re-ask (None: the embedder alone).
        self.index = index
        self.thresholds = ReAskThresholds(
            min_similarity=settings.re_ask_min_similarity,
            sure_similarity=settings.re_ask_sure_similarity,
        )

    def record_after_response(self, log_id: int, vector: np.ndarray | None) -> None:
        try:
            self.record(log_id, vector)
        except Exception:
            logger.exception("implicit signal of log %s not recorded", log_id)

    def record(self, log_id: int, vector: np.ndarray | None = None) -> Signal | None:
        """Read the message of ``log_id`` against the answer before it; store what it says."""
        with self.database.session() as session:
            log = session.get(VoiceLog, log_id)
            previous = previous_turn(session, log) if log is not None else None
            if previous is None:
                return None
            earlier, message = previous.user_message, log.user_message
            answered_id, client_key = previous.id, log.client_key
            served_from_cache = previous.answer_source == AnswerSource.CACHE
            # Stored after that earlier response: read, not computed again.
            earlier_vector = self.embeddings.stored_vector(session, answered_id)
            matcher = self.index.current(session) if self.index is not None else None
        if earlier_vector is None:
            earlier_vector = self.embeddings.question_vector(earlier)
        if vector is None:
            vector = self.embeddings.question_vector(message)
        placements = (
            (matcher.placement(earlier_vector), matcher.placement(vector))
            if matcher is not None
            else (None, None)
        )
        if served_from_cache and placements[0] is not None:
            # That placement is what served the earlier answer: if the resident now asks
            # again, it may be the mistake itself, so it vetoes nothing.
            placements = (replace(placements[0], lead=0.0), placements[1])
        signal = read_next_message(
            earlier, earlier_vector, message, vector, self.thresholds, placements
        )
        if signal is not None:
            self._store(answered_id, log_id, signal, client_key)
        return signal

    def _store(self, answered_id: int, log_id: int, signal: Signal, client_key: str | None):
        """One signal per next message: a retried background task adds nothing. A new
        signal is learnt from at once, as a rating is (``VerifiedAnswers.learn_from_log``
        weighs it below one), and a newly served answer is announced to operators."""
        values = {
            "log_id": answered_id,
            "next_log_id": log_id,
            "kind": signal.kind,
            "evidence": signal.evidence,
            "client_key": client_key,
        }
        verified = self.verified

        def store_and_learn(session: Session) -> Announcement | None:
            stored = session.scalar(
                insert(AnswerSignal)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["next_log_id"])
                .returning(AnswerSignal.id)
            )
            if stored is None or verified is None:
                return None
            verified.begin_learning(session)
            answered = get_log(session, answered_id, lock=True)
            return announcement(verified.learn_from_log(session, answered))

        news = self.learning.run(store_and_learn)
        if news is not None:
            announce(self.alerts, news)


def signals_of(session: Session, log_ids: list[int]) -> dict[int, list[AnswerSignal]]:
    """The signals recorded about each of ``log_ids``, oldest first."""
    found: dict[int, list[AnswerSignal]] = {log_id: [] for log_id in log_ids}
    rows = session.scalars(
        select(AnswerSignal).where(AnswerSignal.log_id.in_(log_ids)).order_by(AnswerSignal.id)
    )
    for row in rows:
        found[row.log_id].append(row)
    return found
