"""One verifier training run: the service's records in, a gated version out.

Run by the worker on a schedule (``VERIFIER_RETRAIN_HOURS``) and on demand
(``POST /api/voice/verifier/train``). The matcher as it serves now gives the candidates
and their approved phrasings; the judge's verdicts and refusals of served answers give the
labelled pairs (``verifier_store.labelled_pairs``). Too little evidence refuses with the
reason, and nothing changes.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.core.config import Settings
from app.db.database import Database
from app.db.models import VerifierVersion
from app.embeddings.service import EmbeddingService
from app.verified_answers.index import VerifiedAnswerIndex
from app.verified_answers.verifier import CacheVerifier
from app.verified_answers.verifier_store import labelled_pairs, record_trained
from app.verified_answers.verifier_training import TooLittleEvidence, train_verifier

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingReport:
    #: ``active``, ``rejected`` (failed the gate) or ``refused`` (too little evidence).
    status: str
    reason: str
    version_id: int | None = None
    pairs: int = 0
    held_out: dict = field(default_factory=dict)
    seconds: float = 0.0


class VerifierTrainer:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        embeddings: EmbeddingService,
        index: VerifiedAnswerIndex,
        verifier: CacheVerifier,
    ) -> None:
        self.settings = settings
        self.database = database
        self.embeddings = embeddings
        self.index = index
        self.verifier = verifier

    def due(self, now: datetime) -> bool:
        """No version yet, or the newest is ``VERIFIER_RETRAIN_HOURS`` old."""
        with self.database.session() as session:
            newest = session.scalar(select(func.max(VerifierVersion.created_at)))
        return newest is None or now - newest >= timedelta(
            hours=self.settings.verifier_retrain_hours
        )

    def train(self) -> TrainingReport:
        started = time.perf_counter()
        with self.database.session() as session:
            candidates = self.index.current(session).candidates
            labelled = labelled_pairs(
                session, self.embeddings.model_name, self.embeddings.question_vector
            )
        try:
            trained = train_verifier(
                candidates,
                labelled,
                self.index.thresholds,
                self.verifier.word_vectors,
                max_error_rate=self.settings.cache_max_error_rate,
                judge_error=self.settings.cache_judge_error_rate,
            )
        except TooLittleEvidence as refusal:
            logger.info("verifier training refused: %s", refusal)
            return TrainingReport("refused", str(refusal), seconds=time.perf_counter() - started)
        with self.database.transaction() as session:
            version = record_trained(session, trained, self.settings.cache_max_error_rate)
            report = TrainingReport(
                version.status,
                version.reason or "",
                version.id,
                trained.pairs,
                trained.held_out,
                time.perf_counter() - started,
            )
        logger.info("verifier training: %s", report)
        return report
