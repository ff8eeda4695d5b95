"""Decides whether a new question means the same as one a verified answer already answers.

One cosine threshold cannot decide this: e5 scores are compressed, and near-identical
wording with another meaning ("когда моют окна?" / "когда моют полы?") scores above true
paraphrases. So the matcher learns from the verified data itself:

* every verified answer is a class whose samples are the questions people approved it
  for, plus the answer text; every knowledge-base fact is a class too, so a question about
  a topic nobody has verified yet has somewhere else to go;
* a ridge classifier (closed form) is trained on those vectors and kept up to date as the
  verified data changes, one changed answer at a time (``MatcherBuilder``, its sums in
  ``matcher_store.py``); past ``LOCAL_CLASSES`` classes each question is decided among the
  classes nearest to it;
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

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from app.language.wording import StemFrequencies, content_stems
from app.verified_answers.matcher_store import GrowingLabels, GrowingRows, RidgeSolver, RidgeSums

#: Share of content words a question must share with its nearest approved phrasing for a
#: new word in it to mean "same wording, another subject".
SWAP_OVERLAP = 0.45


#: The reason of a decision that found an approved phrasing itself (no verifier needed).
SAME_QUESTION = "same question"


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
    #: The approved questions' texts (what the verifier reads word by word).
    texts: tuple[str, ...] = ()


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


#: Row kinds in the stacked phrasings: approved for the answer, served on sight, or both.
APPROVED_ROW, ANCHOR_ROW = 1, 2
#: Up to this many classes one classifier is fitted on all of them (kept by updates); past
#: it, each question is decided among this many classes nearest to it. A linear classifier
#: in e5's 384 dimensions cannot keep thousands of classes apart with a clear margin: with
#: 2,000 answers the margin of the right one shrank to nothing and nothing was served
#: (``benchmarks/matcher_scale.py``); among its nearest rivals it keeps its margin.
LOCAL_CLASSES = 96
#: Dead slots are rebuilt away once they outnumber live ones and exceed this many.
MIN_DEAD_TO_COMPACT = 256


def _row_kinds(candidate: Candidate) -> tuple[np.ndarray, np.ndarray]:
    """The candidate's phrasing rows and their kinds: every approved phrasing, marked an
    anchor when it is one, and any anchor that is not also approved."""
    approved = candidate.approved
    if candidate.anchors is None:
        return approved, np.full(len(approved), APPROVED_ROW | ANCHOR_ROW, np.int8)
    anchors = candidate.anchors
    if not len(approved) or not len(anchors):
        kinds = [APPROVED_ROW] * len(approved) + [ANCHOR_ROW] * len(anchors)
        rows = [r for r in (approved, anchors) if len(r)]
        return (np.concatenate(rows) if rows else approved), np.asarray(kinds, np.int8)
    same = (approved[:, None, :] == anchors[None, :, :]).all(-1)
    kinds = np.where(same.any(1), APPROVED_ROW | ANCHOR_ROW, APPROVED_ROW).astype(np.int8)
    extra = anchors[~same.any(0)]
    rows = np.concatenate([approved, extra]) if len(extra) else approved
    return rows, np.concatenate([kinds, np.full(len(extra), ANCHOR_ROW, np.int8)])


def _class_samples(candidate: Candidate) -> np.ndarray:
    """A class's training samples: its answer text and its approved questions (what it is
    added to the sums with, and subtracted with when it changes)."""
    if not len(candidate.approved):
        return candidate.answer_vector[None, :]
    return np.vstack([candidate.answer_vector[None, :], candidate.approved])


class MatcherBuilder:
    """The writer's side of the matcher: slots appended, retired and compacted; each
    :meth:`matcher` call hands out an immutable snapshot to decide with."""

    def __init__(self, candidates: Sequence[Candidate] = ()) -> None:
        self.slots: list[Candidate] = []
        self.slot_of: dict[str, int] = {}
        self.alive = GrowingLabels(np.bool_)
        self.verified = GrowingLabels(np.bool_)
        self.teaches = GrowingLabels(np.bool_)
        self.class_counts = GrowingLabels(np.float64)
        self.answers, self.class_sums, self.rows = GrowingRows(), GrowingRows(), GrowingRows()
        self.row_owner, self.row_kind = GrowingLabels(np.int32), GrowingLabels(np.int8)
        self.ridge: RidgeSums | None = None
        self.stems: Counter[str] = Counter()
        self.live = 0
        self.fact_texts: tuple[str, ...] = tuple(c.text for c in candidates if is_knowledge_fact(c))
        self.change(removed=(), added=candidates)

    def change(self, *, removed: Sequence[str], added: Sequence[Candidate]) -> None:
        """Retire the slots of ``removed`` keys and of every key in ``added``, then add
        ``added`` in new slots. Knowledge facts only change by a rebuild."""
        for key in [*removed, *(c.key for c in added)]:
            slot = self.slot_of.pop(key, None)
            if slot is not None:
                self._retire(slot)
        for candidate_ in added:
            self._add(candidate_)

    def _add(self, candidate_: Candidate) -> None:
        samples = _class_samples(candidate_)
        slot = len(self.slots)
        self.slots.append(candidate_)
        self.slot_of[candidate_.key] = slot
        for column, value in (
            (self.alive, True),
            (self.verified, candidate_.verified),
            (self.teaches, candidate_.teaches),
            (self.class_counts, len(samples)),
        ):
            column.append([value])
        self.answers.append(candidate_.answer_vector[None, :])
        self.class_sums.append(samples.sum(0, dtype=np.float64)[None, :])
        rows, kinds = _row_kinds(candidate_)
        self.rows.append(rows)
        self.row_owner.append(np.full(len(kinds), slot, np.int32))
        self.row_kind.append(kinds)
        ridge = self.ridge or RidgeSums.empty(samples.shape[1])
        self.ridge = ridge.plus(samples)
        self.stems.update(content_stems(candidate_.text))
        self.live += 1

    def _retire(self, slot: int) -> None:
        candidate_ = self.slots[slot]
        assert self.ridge is not None
        self.ridge = self.ridge.plus(_class_samples(candidate_), sign=-1)
        self.alive.view()[slot] = False
        self.class_counts.view()[slot] = 0.0
        self.stems.subtract(content_stems(candidate_.text))
        self.live -= 1

    def is_corrected(self, key: str) -> bool:
        """The live class ``key`` is an operator's answer (written or approved by one)."""
        slot = self.slot_of.get(key)
        return slot is not None and self.slots[slot].corrected

    @property
    def dead(self) -> int:
        return len(self.slots) - self.live

    def compacted(self) -> "MatcherBuilder":
        """This builder, or a fresh one of its live candidates once dead slots outnumber
        them (new arrays: snapshots in use keep the old ones)."""
        if self.dead < max(self.live, MIN_DEAD_TO_COMPACT):
            return self
        live = [self.slots[int(slot)] for slot in np.flatnonzero(self.alive.view())]
        return MatcherBuilder(live)

    def matcher(self, thresholds: MatchThresholds) -> "FittedMatcher":
        """A snapshot: the small per-slot arrays that change in place are copied."""
        alive = self.alive.view().copy()
        counts = self.class_counts.view().copy()
        verified = self.verified.view() & alive
        solver = None
        if 2 <= self.live <= LOCAL_CLASSES and self.ridge is not None:
            solver = self.ridge.solver(thresholds.ridge_alpha)
        return FittedMatcher(
            thresholds=thresholds,
            slots=tuple(self.slots),
            alive=alive,
            verified=verified,
            teaches=self.teaches.view() & alive,
            class_counts=counts,
            answers=self.answers.view(),
            class_sums=self.class_sums.view(),
            rows=self.rows.view(),
            row_owner=self.row_owner.view(),
            row_kind=self.row_kind.view(),
            solver=solver,
            text_frequencies=StemFrequencies.of_counts(+self.stems, self.live),
            fact_texts=self.fact_texts,
        )

    @property
    def nbytes(self) -> int:
        """Memory of the arrays (vectors and per-slot columns), not of the candidates."""
        columns = (self.alive, self.verified, self.teaches, self.class_counts)
        arrays = (self.answers, self.class_sums, self.rows, self.row_owner, self.row_kind)
        return sum(c.nbytes for c in (*columns, *arrays))


@dataclass(frozen=True)
class FittedMatcher:
    """One immutable state of the matcher: what a request decides with while the index
    may already be updating the next one."""

    thresholds: MatchThresholds
    slots: tuple[Candidate, ...]
    alive: np.ndarray
    verified: np.ndarray
    teaches: np.ndarray
    class_counts: np.ndarray
    answers: np.ndarray
    class_sums: np.ndarray
    rows: np.ndarray
    row_owner: np.ndarray
    row_kind: np.ndarray
    solver: RidgeSolver | None
    #: Content stems of the answers and facts, by how many texts use each.
    text_frequencies: StemFrequencies
    #: The knowledge-base facts among the classes (the same tuple until facts change).
    fact_texts: tuple[str, ...]

    @classmethod
    def fit(cls, candidates: Sequence[Candidate], thresholds: MatchThresholds) -> "FittedMatcher":
        return MatcherBuilder(candidates).matcher(thresholds)

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

    @cached_property
    def candidates(self) -> list[Candidate]:
        return [self.slots[int(slot)] for slot in np.flatnonzero(self.alive)]

    @cached_property
    def verified_count(self) -> int:
        return int(self.verified.sum())

    @cached_property
    def fitted(self) -> bool:
        """Two classes or more: there is something to choose between."""
        return int(self.alive.sum()) >= 2

    def scores(self, vector: np.ndarray) -> np.ndarray:
        """The classifier's score of every slot; dead slots (and, past ``LOCAL_CLASSES``,
        slots far from the question) score -inf."""
        vector = np.asarray(vector, np.float32)
        if self.solver is None:
            return self._local_scores(vector)
        scores = self.solver.scores(vector, self.class_sums, self.class_counts)
        return np.where(self.alive, scores, -np.inf)

    def _local_scores(self, vector: np.ndarray) -> np.ndarray:
        """A classifier fitted on the ``LOCAL_CLASSES`` classes nearest the question (by an
        approved phrasing or the answer itself), from their samples."""
        answers = np.where(self.alive, self.answers @ vector, -np.inf)
        chosen = _top(np.maximum(self._nearest_per_slot(vector), answers), LOCAL_CLASSES)
        start, end = self._row_ranges
        rows = np.concatenate([np.arange(start[s], end[s]) for s in chosen])
        rows = rows[(self.row_kind[rows] & APPROVED_ROW) > 0]
        samples = np.vstack([self.answers[chosen], self.rows[rows]])
        solver = RidgeSums.empty(len(vector)).plus(samples).solver(self.thresholds.ridge_alpha)
        scores = np.full(len(self.slots), -np.inf, np.float32)
        scores[chosen] = solver.scores(vector, self.class_sums[chosen], self.class_counts[chosen])
        return scores

    @cached_property
    def _row_ranges(self) -> tuple[np.ndarray, np.ndarray]:
        """Where each slot's phrasing rows start and end (empty for a slot without)."""
        start = np.zeros(len(self.slots), np.int64)
        end = np.zeros(len(self.slots), np.int64)
        owners, starts = self._row_groups
        start[owners] = starts
        end[owners] = np.r_[starts[1:], len(self.rows)]
        return start, end

    @cached_property
    def _row_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """The slots that have phrasing rows and where each one's rows start (a slot's rows
        are appended together, so they are contiguous and in slot order)."""
        owner = self.row_owner
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else owner
        return owner[starts], starts

    @cached_property
    def _served_anchors(self) -> np.ndarray:
        """Rows a question repeating serves on sight: anchors of served answers."""
        return ((self.row_kind & ANCHOR_ROW) > 0) & self.verified[self.row_owner]

    def _nearest_per_slot(self, vector: np.ndarray, kind: int = APPROVED_ROW) -> np.ndarray:
        """Each slot's similarity to its nearest phrasing of ``kind`` (-1 without one)."""
        nearest = np.full(len(self.slots), -np.inf, np.float32)
        if len(self.rows):
            similarities = np.where((self.row_kind & kind) > 0, self.rows @ vector, -np.inf)
            owners, starts = self._row_groups
            nearest[owners] = np.maximum.reduceat(similarities, starts)
        nearest[np.isneginf(nearest)] = -1.0
        return np.where(self.alive, nearest, -np.inf)

    def ranked(self, vector: np.ndarray, limit: int) -> list[Ranked]:
        """Candidates by classifier score, best first (the nearest phrasing without one)."""
        vector = np.asarray(vector, np.float32)
        scores = self.scores(vector) if self.fitted else self._nearest_per_slot(vector)
        order = _top(scores, limit)
        return [Ranked(self.slots[i], float(scores[i])) for i in order]

    def placement(self, vector: np.ndarray) -> Placement | None:
        """None until there are two classes to choose between."""
        if not self.fitted:
            return None
        scores = self.scores(np.asarray(vector, np.float32))
        first, second = _top(scores, 2)
        best = self.slots[first]
        lead = float(scores[first] - scores[second])
        return Placement(best.key, not is_knowledge_fact(best), round(lead, 4))

    def teaching_near(self, vector: np.ndarray, min_similarity: float) -> list[Ranked]:
        """Answers that may be examples with an approved phrasing at least
        ``min_similarity`` close to the question, nearest first (the ranking by cosine,
        beside the classifier's)."""
        nearest = self._nearest_per_slot(np.asarray(vector, np.float32))
        near = np.flatnonzero(self.teaches & (nearest >= min_similarity))
        near = near[np.argsort(-nearest[near], kind="stable")]
        return [Ranked(self.slots[i], float(nearest[i])) for i in near]

    def decide(self, vector: np.ndarray, question: str | None = None) -> Decision:
        if self.verified_count == 0:
            return Decision(None, "no verified answers yet")
        vector = np.asarray(vector, dtype=np.float32)
        same = self._same_question(vector)
        if same is not None:
            return same
        if not self.fitted:
            return Decision(None, "too little verified data to compare answers")
        scores = self.scores(vector)
        best = self._best_verified(scores)
        if best is None:
            return Decision(None, "closest to a fact or an answer that is not verified")
        return self._check_winner(best, scores, vector, question)

    def margin_of(self, slot: int, scores: np.ndarray) -> float:
        """The classifier's lead of ``slot`` over the best answer that says something else."""
        others = scores[self.alive & ~self.same_answer_as(slot)]
        return float(scores[slot] - others.max()) if others.size else float("inf")

    def slot_of(self, key: str) -> int | None:
        """The live slot of the class ``key``."""
        for slot in np.flatnonzero(self.alive):
            if self.slots[int(slot)].key == key:
                return int(slot)
        return None

    @cached_property
    def centroids(self) -> np.ndarray:
        """Each slot's mean sample (answer and approved phrasings), unit length."""
        means = self.class_sums / np.maximum(self.class_counts, 1)[:, None]
        return means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-9)

    def same_answer_as(self, slot: int) -> np.ndarray:
        """Live slots whose answer text says the same as ``slot``'s (itself included)."""
        similar = self.answers @ self.answers[slot] >= self.thresholds.same_answer_similarity
        return similar & self.alive

    def _best_verified(self, scores: np.ndarray) -> int | None:
        """The top-scored candidate; a fact that a verified answer restates counts as that
        answer. None when the winner is unverified and restated by nothing verified.

        Restating here is the strict one (answer vectors this close), not shared factual
        words: a fact sheet line often answers several questions, and letting an answer to
        one of them stand for the line served it for the others."""
        best = int(np.argmax(scores))
        if self.verified[best]:
            return best
        restating = np.flatnonzero(self.same_answer_as(best) & self.verified)
        return int(restating[np.argmax(scores[restating])]) if len(restating) else None

    def _check_winner(
        self, best: int, scores: np.ndarray, vector: np.ndarray, question: str | None
    ) -> Decision:
        """The winner is served only past every guard: a clear margin over other answers,
        close to an approved phrasing, not closer to a refused one, no swapped subject."""
        candidate_ = self.slots[best]
        margin = self.margin_of(best, scores)
        nearest = _nearest(candidate_.approved, vector)
        if margin < self.thresholds.min_margin:
            return Decision(None, "no clear winner between answers", margin, nearest)
        if nearest < self.thresholds.min_similarity:
            return Decision(None, "too far from every approved phrasing", margin, nearest)
        if self.solver is None and self._rival_as_near(best, vector, nearest):
            return Decision(None, "another answer has a phrasing as close", margin, nearest)
        if _nearest(candidate_.refused, vector) >= nearest:
            return Decision(None, "closer to a question this answer was refused for", margin)
        relevance = _relevance(candidate_, vector)
        if relevance < self.thresholds.min_answer_relevance:
            return Decision(
                None, f"the answer does not read as an answer to it ({relevance:.3f})", margin
            )
        if question is not None and nearest >= self.thresholds.contrast_similarity:
            swapped = _swapped_words(candidate_, vector, content_stems(question))
            if swapped:
                return Decision(None, f"same wording, another subject: {swapped}", margin)
        return Decision(candidate_, "classifier", margin, nearest)

    def _rival_as_near(self, best: int, vector: np.ndarray, nearest: float) -> bool:
        """Past ``LOCAL_CLASSES`` answers sit as close to each other as the intents they
        answer: another verified answer with an approved phrasing at least as close to the
        question as the winner's nearest is a near-tie, not a clear winner. At 100,000
        verified questions this guard took the dev probe's precision from 0.91 to 1.0 (20 %
        served instead of 22 %); below ``LOCAL_CLASSES`` decisions are as before."""
        others = self.alive & self.verified & ~self.same_answer_as(best)
        rivals = self._nearest_per_slot(vector)[others]
        return bool(rivals.size) and float(rivals.max()) >= nearest

    def _same_question(self, vector: np.ndarray) -> Decision | None:
        """An anchor phrasing of a served answer at the same-question similarity."""
        if not len(self.rows):
            return None
        similarities = np.where(self._served_anchors, self.rows @ vector, -np.inf)
        top = int(np.argmax(similarities))
        similarity = float(similarities[top])
        if similarity < self.thresholds.same_question_similarity:
            return None
        candidate_ = self.slots[int(self.row_owner[top])]
        if _nearest(candidate_.refused, vector) >= similarity:
            return None
        return Decision(candidate_, SAME_QUESTION, nearest_similarity=similarity)


def _top(scores: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the ``limit`` highest finite scores, best first (ties by slot)."""
    if limit <= 0:
        return np.zeros(0, np.int64)
    if limit < len(scores):
        part = np.argpartition(-scores, limit - 1)[:limit]
        order = part[np.argsort(-scores[part], kind="stable")]
    else:
        order = np.argsort(-scores, kind="stable")
    return order[np.isfinite(scores[order])][:limit]


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
        texts=tuple(texts),
    )
