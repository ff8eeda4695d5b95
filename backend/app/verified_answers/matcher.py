"""Decides whether a new question means the same as one a verified answer already answers.

One cosine threshold cannot decide this: e5 scores are compressed, and near-identical
wording with another meaning ("когда моют окна?" / "когда моют полы?") scores above true
paraphrases. So the matcher learns from the verified data itself:

* every verified answer is a class whose samples are the questions people approved it
  for, plus the answer text; every knowledge-base fact is a class too, so a question about
  a topic nobody has verified yet has somewhere else to go;
* a ridge classifier (closed form, a few milliseconds to refit) is trained on those vectors
  whenever the verified data changes;
* an answer is served only when the classifier puts it first by a clear margin over the
  best *different* answer, the question is close to one of its approved phrasings, and no
  question that was refused this answer is closer.

"Different" means another answer text (e5 cosine below ``same_answer_similarity``), fact
lines included. Excusing answers or fact lines that merely share figures and names from the
margin was tried and measured: neighbouring intents share facts (price of a cleaning, price
of an extra one), and the excuse served one's answer for the other's questions — 18 % more
wrong cached answers and 6.5 points fewer answers without a paid call on the
self-learning benchmark.

Anything less certain abstains, and the question goes to a model with the candidates as
examples. All of it is numpy: no model download, nothing to keep warm.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from app.verified_answers.wording import content_stems

#: Share of content words a question must share with its nearest approved phrasing for a
#: new word in it to mean "same wording, another subject".
SWAP_OVERLAP = 0.45


@dataclass(frozen=True)
class MatchThresholds:
    #: A question this close to an approved phrasing is the same question.
    same_question_similarity: float = 0.99
    #: Classifier margin over the best different answer needed to serve an answer.
    min_margin: float = 0.45
    #: The question must be at least this close to one approved phrasing of the answer.
    min_similarity: float = 0.85
    #: Two answers this close (e5 cosine of their texts) count as the same answer.
    same_answer_similarity: float = 0.95
    #: Ridge regularisation; small because e5 vectors are unit length and few.
    ridge_alpha: float = 0.03
    #: Above this similarity to an approved phrasing, a content word the answer was never
    #: asked or answered about means another question worded the same way; 0 checks always.
    contrast_similarity: float = 0.0
    #: e5 relevance of the answer (as a passage) to the question (as a query) below which
    #: the answer does not read as an answer to it, however close the phrasings are;
    #: 0 switches the check off (``CACHE_MIN_ANSWER_RELEVANCE``).
    min_answer_relevance: float = 0.0


@dataclass(frozen=True)
class Candidate:
    """One class of the matcher: a verified answer, an answer waiting for its verification,
    or a knowledge-base fact. Only verified ones are served; the others give the questions
    nearest to them somewhere else to go."""

    key: str
    text: str
    verified: bool
    #: Query vectors of the questions this answer was approved for (verified answers).
    approved: np.ndarray
    #: Query vectors of questions this answer was refused for.
    refused: np.ndarray
    #: Query-mode vector of the answer text itself.
    answer_vector: np.ndarray
    #: Passage-mode vector of the answer: how well it answers a question (e5 retrieval).
    answer_passage: np.ndarray | None = None
    #: The dialog the answer came from; cached replies point to it.
    source_log_id: int | None = None
    #: That dialog's question, shown with the answer when it is a prompt example.
    question: str | None = None
    #: Written by an operator rather than rated by a resident.
    corrected: bool = False
    #: Content stems of the approved phrasings and the answer.
    vocabulary: frozenset[str] = frozenset()
    #: Content stems of each approved phrasing, in the order of ``approved``.
    phrasing_stems: tuple[frozenset[str], ...] = ()
    #: May be a prompt example (``trust.Standing.teaches``); every served answer may.
    teaches: bool = False
    #: The approved phrasings a question repeating one is served on sight ("the same
    #: question"); None: all of ``approved``.
    anchors: np.ndarray | None = None


@dataclass(frozen=True)
class Decision:
    """The matcher's verdict, with the figures behind it for logs and tests."""

    candidate: Candidate | None
    reason: str
    margin: float | None = None
    nearest_similarity: float | None = None

    @property
    def serve(self) -> bool:
        return self.candidate is not None


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    score: float


@dataclass(frozen=True)
class Placement:
    """Where the classifier puts a question: its best class, whether that class is an
    answer (not a knowledge fact), and its lead over the next class. Two questions placed
    in the same answer probably ask the same; placed apart with a lead, they do not."""

    key: str
    answer: bool
    lead: float


def _rows(vectors: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    return array.reshape(-1, array.shape[-1]) if array.size else np.zeros((0, 0), np.float32)


@dataclass
class FittedMatcher:
    candidates: list[Candidate]
    thresholds: MatchThresholds
    _weights: np.ndarray | None = field(default=None, repr=False)
    _x_mean: np.ndarray | None = field(default=None, repr=False)
    _y_mean: np.ndarray | None = field(default=None, repr=False)
    _same_answer: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def fit(cls, candidates: list[Candidate], thresholds: MatchThresholds) -> "FittedMatcher":
        matcher = cls(candidates, thresholds)
        if len(candidates) >= 2:
            matcher._fit_ridge()
        return matcher

    def deciding_with(
        self, *, min_margin: float, min_similarity: float, min_answer_relevance: float
    ) -> "FittedMatcher":
        """The same fit deciding with other serving thresholds (an experiment's arm); no
        refit, the fitted arrays are shared."""
        wanted = replace(
            self.thresholds,
            min_margin=min_margin,
            min_similarity=min_similarity,
            min_answer_relevance=min_answer_relevance,
        )
        return self if wanted == self.thresholds else replace(self, thresholds=wanted)

    @property
    def verified_count(self) -> int:
        return sum(1 for c in self.candidates if c.verified)

    def _fit_ridge(self) -> None:
        samples, labels = [], []
        for index, candidate in enumerate(self.candidates):
            rows = [candidate.answer_vector, *list(candidate.approved)]
            samples.extend(rows)
            labels.extend([index] * len(rows))
        x = np.asarray(samples, dtype=np.float64)
        y = -np.ones((len(labels), len(self.candidates)))
        y[np.arange(len(labels)), labels] = 1.0
        self._x_mean, self._y_mean = x.mean(0), y.mean(0)
        xc = x - self._x_mean
        gram = xc.T @ xc + self.thresholds.ridge_alpha * np.eye(x.shape[1])
        self._weights = np.linalg.solve(gram, xc.T @ (y - self._y_mean))
        answers = np.asarray([c.answer_vector for c in self.candidates])
        self._same_answer = answers @ answers.T >= self.thresholds.same_answer_similarity

    def scores(self, vector: np.ndarray) -> np.ndarray:
        assert self._weights is not None
        return (np.asarray(vector, np.float64) - self._x_mean) @ self._weights + self._y_mean

    def ranked(self, vector: np.ndarray, limit: int) -> list[Ranked]:
        """Candidates by classifier score, best first (the nearest phrasing without one)."""
        if self._weights is not None:
            scores = self.scores(vector)
        else:
            scores = np.array([_nearest(c.approved, vector) for c in self.candidates])
        order = np.argsort(-scores)[:limit]
        return [Ranked(self.candidates[i], float(scores[i])) for i in order]

    def placement(self, vector: np.ndarray) -> Placement | None:
        """None until there are two classes to choose between."""
        if self._weights is None:
            return None
        scores = self.scores(vector)
        first, second = np.argsort(-scores)[:2]
        best = self.candidates[first]
        lead = float(scores[first] - scores[second])
        return Placement(best.key, not is_knowledge_fact(best), round(lead, 4))

    def teaching_near(self, vector: np.ndarray, min_similarity: float) -> list[Ranked]:
        """Answers that may be examples with an approved phrasing at least
        ``min_similarity`` close to the question, nearest first (the ranking by cosine,
        beside the classifier's)."""
        near = [
            Ranked(c, similarity)
            for c in self.candidates
            if c.teaches and (similarity := _nearest(c.approved, vector)) >= min_similarity
        ]
        return sorted(near, key=lambda r: -r.score)

    def decide(self, vector: np.ndarray, question: str | None = None) -> Decision:
        if self.verified_count == 0:
            return Decision(None, "no verified answers yet")
        vector = np.asarray(vector, dtype=np.float32)
        same = self._same_question(vector)
        if same is not None:
            return same
        if self._weights is None:
            return Decision(None, "too little verified data to compare answers")
        scores = self.scores(vector)
        best = self._best_verified(scores)
        if best is None:
            return Decision(None, "closest to a fact or an answer that is not verified")
        return self._check_winner(best, scores, vector, question)

    def _best_verified(self, scores: np.ndarray) -> int | None:
        """The top-scored candidate; a fact that a verified answer restates counts as that
        answer. None when the winner is unverified and restated by nothing verified.

        Restating here is the strict one (answer vectors this close), not shared factual
        words: a fact sheet line often answers several questions, and letting an answer to
        one of them stand for the line served it for the others."""
        assert self._same_answer is not None
        best = int(np.argmax(scores))
        if self.candidates[best].verified:
            return best
        restating = [
            i for i in np.flatnonzero(self._same_answer[best]) if self.candidates[i].verified
        ]
        return max(restating, key=lambda i: scores[i]) if restating else None

    def _check_winner(
        self, best: int, scores: np.ndarray, vector: np.ndarray, question: str | None
    ) -> Decision:
        """The winner is served only past every guard: a clear margin over other answers,
        close to an approved phrasing, not closer to a refused one, no swapped subject."""
        assert self._same_answer is not None
        candidate = self.candidates[best]
        others = scores[~self._same_answer[best]]
        margin = float(scores[best] - others.max()) if others.size else float("inf")
        nearest = _nearest(candidate.approved, vector)
        if margin < self.thresholds.min_margin:
            return Decision(None, "no clear winner between answers", margin, nearest)
        if nearest < self.thresholds.min_similarity:
            return Decision(None, "too far from every approved phrasing", margin, nearest)
        if _nearest(candidate.refused, vector) >= nearest:
            return Decision(None, "closer to a question this answer was refused for", margin)
        relevance = _relevance(candidate, vector)
        if relevance < self.thresholds.min_answer_relevance:
            return Decision(
                None, f"the answer does not read as an answer to it ({relevance:.3f})", margin
            )
        if question is not None and nearest >= self.thresholds.contrast_similarity:
            swapped = _swapped_words(candidate, vector, content_stems(question))
            if swapped:
                return Decision(None, f"same wording, another subject: {swapped}", margin)
        return Decision(candidate, "classifier", margin, nearest)

    def _same_question(self, vector: np.ndarray) -> Decision | None:
        best: tuple[float, Candidate] | None = None
        for candidate in self.candidates:
            if candidate.verified:
                anchors = candidate.approved if candidate.anchors is None else candidate.anchors
                similarity = _nearest(anchors, vector)
                if best is None or similarity > best[0]:
                    best = (similarity, candidate)
        if best is None or best[0] < self.thresholds.same_question_similarity:
            return None
        similarity, candidate = best
        if _nearest(candidate.refused, vector) >= similarity:
            return None
        return Decision(candidate, "same question", nearest_similarity=similarity)


KNOWLEDGE_KEY_PREFIX = "kb:"


def is_knowledge_fact(candidate: Candidate) -> bool:
    """A class made of a knowledge-base fact rather than an answer."""
    return candidate.key.startswith(KNOWLEDGE_KEY_PREFIX)


def _swapped_words(candidate: Candidate, vector: np.ndarray, stems: frozenset[str]) -> str:
    """Words of the question the answer never covered, when the question otherwise reads
    like its nearest approved phrasing (they share most content words)."""
    novel = stems - candidate.vocabulary
    if not novel or not candidate.phrasing_stems:
        return ""
    nearest = candidate.phrasing_stems[int(np.argmax(candidate.approved @ vector))]
    shared = len(nearest & stems)
    if shared and shared / len(nearest | stems) >= SWAP_OVERLAP:
        return ", ".join(sorted(novel))
    return ""


def _relevance(candidate: Candidate, vector: np.ndarray) -> float:
    if candidate.answer_passage is None:
        return 1.0
    return float(candidate.answer_passage @ vector)


def _nearest(vectors: np.ndarray, vector: np.ndarray) -> float:
    if vectors.size == 0:
        return -1.0
    return float(np.max(vectors @ vector))


def candidate(
    key: str,
    text: str,
    *,
    verified: bool,
    answer_vector: np.ndarray,
    approved: Sequence[np.ndarray] = (),
    refused: Sequence[np.ndarray] = (),
    source_log_id: int | None = None,
    question: str | None = None,
    corrected: bool = False,
    texts: Sequence[str] = (),
    answer_passage: np.ndarray | None = None,
    teaches: bool | None = None,
    anchors: Sequence[np.ndarray] | None = None,
) -> Candidate:
    """Build a candidate from plain vectors (lists or arrays) and its approved texts
    (questions and the answer itself), whose content words form its vocabulary."""
    return Candidate(
        key=key,
        text=text,
        verified=verified,
        approved=_rows(approved),
        refused=_rows(refused),
        answer_vector=np.asarray(answer_vector, dtype=np.float32),
        answer_passage=None
        if answer_passage is None
        else np.asarray(answer_passage, dtype=np.float32),
        source_log_id=source_log_id,
        question=question,
        corrected=corrected,
        vocabulary=frozenset().union(*(content_stems(t) for t in (text, *texts))),
        phrasing_stems=tuple(content_stems(t) for t in texts)
        if len(texts) == len(approved)
        else (),
        teaches=verified if teaches is None else teaches,
        anchors=None if anchors is None else _rows(anchors),
    )
