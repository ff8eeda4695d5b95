"""Training pairs the service makes from its own verified answers, and the fit on them.

Leave-one-out in rounds: round *r* takes the *r*-th approved phrasing out of every answer
that has enough, fits the matcher on the rest, and asks for each phrasing taken out
"does it ask what its own answer answers?" (yes) and "…what the answer the classifier
ranks next answers?" (no: the hardest negative the data holds). A phrasing never sees
itself in its answer's vocabulary, exactly like a new question. A handful of matcher
fits per training run, whatever the number of answers.

Judge verdicts and served answers that were re-asked, refused or corrected are pairs too
(``ExtraPair``): they are the realistic negatives leave-one-out cannot make.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from app.language.wording import content_stems
from app.verified_answers.logistic import LogisticModel
from app.verified_answers.matcher import Candidate, FittedMatcher, MatchThresholds
from app.verified_answers.verifier_features import ClassWords, WordVectors, pair_features

#: An answer lends a phrasing to a round only if this many remain to describe it.
MIN_PHRASINGS_LEFT = 2
ROUNDS = 8


@dataclass(frozen=True)
class Pair:
    question: str
    vector: np.ndarray
    key: str
    #: 1: the question asks what the answer ``key`` answers; 0: it does not.
    label: int


@dataclass(frozen=True)
class PairSet:
    features: np.ndarray
    labels: np.ndarray
    #: The answer of each pair (held-out splits keep an answer's pairs together).
    keys: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)


def without_phrasing(candidate: Candidate, index: int) -> Candidate:
    """``candidate`` as if its ``index``-th approved phrasing had never been approved."""
    texts = candidate.texts[:index] + candidate.texts[index + 1 :]
    return replace(
        candidate,
        approved=np.delete(candidate.approved, index, axis=0),
        texts=texts,
        phrasing_stems=tuple(content_stems(t) for t in texts),
        vocabulary=frozenset().union(*(content_stems(t) for t in (candidate.text, *texts))),
        anchors=None,
    )


def leave_one_out_pairs(
    candidates: Sequence[Candidate],
    thresholds: MatchThresholds,
    word_vectors: WordVectors,
    rounds: int = ROUNDS,
    word_level: str = "words",
) -> PairSet:
    rows, labels, keys = [], [], []
    for r in range(rounds):
        held: list[tuple[int, Candidate]] = []
        reduced = []
        for c in candidates:
            usable = c.verified and len(c.texts) == len(c.approved) > r
            if usable and len(c.texts) - 1 >= MIN_PHRASINGS_LEFT:
                held.append((len(reduced), c))
                reduced.append(without_phrasing(c, r))
            else:
                reduced.append(c)
        if not held:
            break
        matcher = FittedMatcher.fit(reduced, thresholds)
        words = ClassWords(matcher, word_level)
        for slot, original in held:
            question, vector = original.texts[r], original.approved[r]
            for row, label in _own_and_rival(question, vector, slot, matcher, words, word_vectors):
                rows.append(row)
                labels.append(label)
                keys.append(original.key)
    return PairSet(np.array(rows).reshape(len(rows), -1), np.array(labels), tuple(keys))


def _own_and_rival(question, vector, slot, matcher: FittedMatcher, words, word_vectors):
    scores = matcher.scores(vector)
    yield pair_features(question, vector, slot, scores, words, word_vectors), 1
    others = matcher.alive & matcher.verified & ~matcher.same_answer_as(slot)
    if others.any():
        rival = int(np.argmax(np.where(others, scores, -np.inf)))
        yield pair_features(question, vector, rival, scores, words, word_vectors), 0


def pairs_against(
    pairs: Sequence[Pair], matcher: FittedMatcher, word_vectors: WordVectors
) -> PairSet:
    """Features of labelled (question, answer) pairs against the current matcher; pairs
    whose answer is gone are skipped."""
    words = ClassWords(matcher, "words")
    rows, labels, keys = [], [], []
    for pair in pairs:
        slot = matcher.slot_of(pair.key)
        if slot is None:
            continue
        scores = matcher.scores(pair.vector)
        rows.append(pair_features(pair.question, pair.vector, slot, scores, words, word_vectors))
        labels.append(pair.label)
        keys.append(pair.key)
    return PairSet(np.array(rows).reshape(len(rows), -1), np.array(labels), tuple(keys))


def fit_model(pairs: PairSet, l2: float = 1.0) -> LogisticModel:
    return LogisticModel.fit(pairs.features, pairs.labels, l2=l2)
