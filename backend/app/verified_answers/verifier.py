"""The verifier after the matcher: does *this question* ask what *that answer* answers?

The matcher proposes the answer whose class the question falls in, with relaxed guards
(:data:`PROPOSING`); the verifier reads the words (``verifier_features.py``) and gives a
probability. What happens next depends on the answer's own threshold, learned with the
version from what happened when it was served or nearly served (``verifier_calibration``):

* ``p ≥ threshold(answer)`` — served: the estimated chance of a wrong serve is ≤ δ
  (``CACHE_MAX_ERROR_RATE``);
* ``ask_from ≤ p < threshold`` — the uncertain band: the paid judge is asked «да»/«нет»
  (``judge.py``); served on «да», generated otherwise;
* below — not verified: the model answers.

A verifier that cannot be loaded or fails to predict is "not verified": the model answers,
never the cache. An exact approved phrasing ("same question") needs no verifier.
"""

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import VerifierVersion
from app.embeddings.word_vectors import WordVectors
from app.verified_answers.logistic import LogisticModel
from app.verified_answers.matcher import Candidate, FittedMatcher
from app.verified_answers.verifier_calibration import NEVER
from app.verified_answers.verifier_features import (
    FEATURE_NAMES,
    ClassWords,
    pair_features,
    vocabulary_of,
)

logger = logging.getLogger(__name__)

#: The features the served verifier reads (``lemmas+words`` in
#: ``benchmarks/results/near_miss_verifier.md``: the best of the four measured).
SERVING_FEATURES = (
    "uncovered_share",
    "foreign_weight",
    "unknown_words",
    "new_negation",
    "answer_text_coverage",
    "answer_relevance",
    "word_rival_pull",
    "word_own_closeness",
)
#: The matcher's guards while a verifier decides: loose enough to propose the paraphrases
#: the static guards refuse, tight enough that a proposal is worth reading word by word.
PROPOSING = MappingProxyType(
    {"min_margin": 0.3, "min_similarity": 0.83, "min_answer_relevance": 0.0}
)


class Action(StrEnum):
    SERVE = "serve"
    ASK_JUDGE = "ask_judge"
    DECLINE = "decline"


@dataclass(frozen=True)
class VerifierModel:
    """One trained verifier: weights over ``features`` and the thresholds it serves with."""

    model: LogisticModel
    features: tuple[str, ...]
    #: The pooled serving threshold: an answer with no evidence of its own uses it.
    serve_at: float
    #: Below this nothing is asked: the judge's band is [ask_from, threshold).
    ask_from: float
    #: Each answer's own serving threshold, where its evidence moved it.
    per_answer: Mapping[str, float] = field(default_factory=dict)
    version_id: int | None = None

    def __post_init__(self) -> None:
        unknown = set(self.features) - set(FEATURE_NAMES)
        if unknown:
            raise ValueError(f"unknown verifier features: {sorted(unknown)}")
        if len(self.features) != len(self.model.weights) - 1:
            raise ValueError("the verifier's weights do not match its features")
        if not 0.0 <= self.ask_from <= NEVER or not 0.0 <= self.serve_at <= NEVER:
            raise ValueError("verifier thresholds must lie in [0, 1]")

    @property
    def columns(self) -> list[int]:
        return [FEATURE_NAMES.index(name) for name in self.features]

    def threshold_for(self, key: str) -> float:
        return self.per_answer.get(key, self.serve_at)

    def probability(self, row: np.ndarray) -> float:
        value = float(self.model.probability(np.asarray(row)[self.columns])[0])
        if not np.isfinite(value):
            raise ValueError("the verifier gave no probability")
        return value

    def action(self, key: str, probability: float) -> Action:
        if probability >= self.threshold_for(key):
            return Action.SERVE
        if probability >= min(self.ask_from, self.threshold_for(key)):
            return Action.ASK_JUDGE
        return Action.DECLINE

    def as_dict(self) -> dict:
        return {
            "model": self.model.as_dict(),
            "features": list(self.features),
            "serve_at": self.serve_at,
            "ask_from": self.ask_from,
            "per_answer": dict(self.per_answer),
        }

    @classmethod
    def from_dict(cls, data: dict, version_id: int | None = None) -> "VerifierModel":
        return cls(
            model=LogisticModel.from_dict(data["model"]),
            features=tuple(data["features"]),
            serve_at=float(data["serve_at"]),
            ask_from=float(data["ask_from"]),
            per_answer=MappingProxyType({str(k): float(v) for k, v in data["per_answer"].items()}),
            version_id=version_id,
        )


@dataclass(frozen=True)
class Assessment:
    action: Action
    probability: float | None
    version_id: int | None
    reason: str = ""


class BrokenVerifier:
    """The active version could not be loaded: nothing it would have judged is served."""

    def __init__(self, version_id: int, error: str) -> None:
        self.version_id = version_id
        self.error = error


class CacheVerifier:
    """This process's view of the active verifier version, and the word-level evidence
    it reads (vocabularies per answer and word vectors, kept between questions)."""

    def __init__(self, word_vectors: WordVectors) -> None:
        self.word_vectors = word_vectors
        self._lock = threading.Lock()
        self._loaded: VerifierModel | BrokenVerifier | None = None
        self._vocabularies: dict[str, tuple[Candidate, frozenset[str]]] = {}
        self._words_of: tuple[FittedMatcher | None, ClassWords | None] = (None, None)

    def active(self, session: Session) -> VerifierModel | BrokenVerifier | None:
        """The version serving now; None when none was trained. Each question reads the
        active id only (one small indexed query); its parameters when it changed."""
        version_id = session.scalar(
            select(VerifierVersion.id).where(VerifierVersion.status == "active")
        )
        if version_id is None:
            return None
        loaded = self._loaded
        if loaded is not None and loaded.version_id == version_id:
            return loaded
        params = session.scalar(
            select(VerifierVersion.params).where(VerifierVersion.id == version_id)
        )
        try:
            loaded = VerifierModel.from_dict(params, version_id=version_id)
        except (KeyError, TypeError, ValueError) as error:
            logger.error("verifier version %s cannot be loaded: %s", version_id, error)
            loaded = BrokenVerifier(version_id, str(error))
        self._loaded = loaded
        return loaded

    def assess(
        self,
        verifier: VerifierModel | BrokenVerifier,
        question: str,
        vector: np.ndarray,
        matcher: FittedMatcher,
        candidate: Candidate,
    ) -> Assessment:
        if isinstance(verifier, BrokenVerifier):
            return Assessment(Action.DECLINE, None, verifier.version_id, "verifier not loaded")
        try:
            slot = matcher.slot_of(candidate.key)
            if slot is None:
                raise LookupError(f"answer {candidate.key} left the matcher")
            row = pair_features(
                question, vector, slot, matcher.scores(vector), self.words(matcher),
                self.word_vectors,
            )  # fmt: skip
            probability = verifier.probability(row)
        except Exception:
            logger.exception("the verifier failed on a proposal: not verified")
            return Assessment(Action.DECLINE, None, verifier.version_id, "verifier failed")
        action = verifier.action(candidate.key, probability)
        return Assessment(action, probability, verifier.version_id)

    def words(self, matcher: FittedMatcher) -> ClassWords:
        """The matcher's class vocabularies; an answer's is lemmatised again only when the
        answer changed (a rating refits the matcher, not every answer's words)."""
        known, words = self._words_of
        if known is matcher and words is not None:
            return words
        with self._lock:
            by_key = {}
            for candidate in matcher.candidates:
                kept = self._vocabularies.get(candidate.key)
                if kept is None or kept[0] is not candidate:
                    kept = (candidate, vocabulary_of(candidate))
                    self._vocabularies[candidate.key] = kept
                by_key[candidate.key] = kept[1]
            for gone in set(self._vocabularies) - set(by_key):
                del self._vocabularies[gone]
            words = ClassWords.with_vocabularies(matcher, by_key)
            self._words_of = (matcher, words)
        return words
