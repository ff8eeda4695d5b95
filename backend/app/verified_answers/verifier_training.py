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

from app.embeddings.word_vectors import WordVectors
from app.language.wording import content_stems
from app.verified_answers.logistic import LogisticModel
from app.verified_answers.matcher import Candidate, FittedMatcher, MatchThresholds
from app.verified_answers.verifier import SERVING_FEATURES, VerifierModel
from app.verified_answers.verifier_calibration import calibrate, outcome_at
from app.verified_answers.verifier_features import (
    FEATURE_NAMES,
    ClassWords,
    pair_features,
)

#: An answer lends a phrasing to a round only if this many remain to describe it.
MIN_PHRASINGS_LEFT = 2
ROUNDS = 8
#: A verifier is trained only from this many answers with phrasings to hold out…
MIN_ANSWERS = 5
#: …and this many pairs in all.
MIN_PAIRS = 40
#: Out-of-fold probabilities (held-out figures and thresholds) from this many folds.
FOLDS = 5


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
    return _pair_set(rows, labels, keys)


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
    return _pair_set(rows, labels, keys)


def _pair_set(rows: list, labels: list, keys: list) -> PairSet:
    features = np.array(rows, np.float64).reshape(len(rows), len(FEATURE_NAMES))
    return PairSet(features, np.array(labels, dtype=int), tuple(keys))


def fit_model(pairs: PairSet, l2: float = 1.0) -> LogisticModel:
    return LogisticModel.fit(pairs.features, pairs.labels, l2=l2)


class TooLittleEvidence(ValueError):
    """A training run that refuses: the reason says what is missing."""


@dataclass(frozen=True)
class TrainedVerifier:
    verifier: VerifierModel
    pairs: int
    #: Out-of-fold figures at the calibrated thresholds (``verifier_calibration.outcome_at``).
    held_out: dict


def train_verifier(
    candidates: Sequence[Candidate],
    labelled: Sequence[Pair],
    thresholds: MatchThresholds,
    word_vectors: WordVectors,
    *,
    max_error_rate: float,
    judge_error: float,
    rounds: int = ROUNDS,
) -> TrainedVerifier:
    """Pairs from the approved phrasings (leave-one-out) and the labelled records, folds
    that keep each answer's pairs together, thresholds calibrated on the out-of-fold
    probabilities, then one fit on everything."""
    pairs = leave_one_out_pairs(candidates, thresholds, word_vectors, rounds)
    if labelled:
        matcher = FittedMatcher.fit(candidates, thresholds)
        pairs = _combined(pairs, pairs_against(labelled, matcher, word_vectors))
    _enough(pairs)
    columns = [FEATURE_NAMES.index(name) for name in SERVING_FEATURES]
    features = pairs.features[:, columns]
    held_out = _out_of_fold(features, pairs.labels, pairs.keys)
    calibration = calibrate(held_out, pairs.labels, pairs.keys, max_error_rate, judge_error)
    verifier = VerifierModel(
        LogisticModel.fit(features, pairs.labels),
        SERVING_FEATURES,
        calibration.serve_at,
        calibration.ask_from,
        calibration.per_answer,
    )
    figures = outcome_at(held_out, pairs.labels, pairs.keys, calibration, judge_error)
    return TrainedVerifier(verifier, len(pairs), figures | {"folds": FOLDS})


def _combined(first: PairSet, second: PairSet) -> PairSet:
    if not len(second):
        return first
    if not len(first):
        return second
    return PairSet(
        np.vstack([first.features, second.features]),
        np.concatenate([first.labels, second.labels]),
        first.keys + second.keys,
    )


def _enough(pairs: PairSet) -> None:
    answers = {key for key, label in zip(pairs.keys, pairs.labels, strict=True) if label == 1}
    if len(answers) < MIN_ANSWERS:
        raise TooLittleEvidence(
            f"{len(answers)} verified answers have {MIN_PHRASINGS_LEFT + 1} or more approved "
            f"phrasings; a verifier needs at least {MIN_ANSWERS}"
        )
    if len(pairs) < MIN_PAIRS:
        raise TooLittleEvidence(f"{len(pairs)} training pairs; a verifier needs {MIN_PAIRS}")
    if len(set(pairs.labels.tolist())) < 2:
        raise TooLittleEvidence("the pairs hold only one kind of example")


def _out_of_fold(features: np.ndarray, labels: np.ndarray, keys: tuple[str, ...]) -> np.ndarray:
    """Each pair's probability from a model that never saw its answer's pairs."""
    order = {key: i for i, key in enumerate(sorted(set(keys)))}
    fold = np.array([order[key] % FOLDS for key in keys])
    probabilities = np.full(len(labels), np.nan)
    for f in range(FOLDS):
        test = fold == f
        train = ~test
        if not test.any():
            continue
        if len(np.unique(labels[train])) < 2:
            raise TooLittleEvidence("a held-out fold left only one kind of example to learn")
        model = LogisticModel.fit(features[train], labels[train])
        probabilities[test] = model.probability(features[test])
    return probabilities
