"""What the verifier looks at: does *this question* ask what *that answer* answers?

A look-alike differs from the questions an answer was approved for in a content word —
the object («окна в *квартире*»), the place, the action, a negation — while a true
paraphrase swaps words for synonyms. Cosine similarity cannot tell them apart (every
cosine feature overlaps on the near-miss set); the words can: a question word the answer
was never asked or answered about costs little when no other answer uses it either (a
new synonym) and a lot when it belongs to another answer or fact («газ», «квартира»,
«офис»). Word-level e5 adds how close each such word is to the answer's own questions
compared with the rival classes'.

Everything here is computed from the fitted matcher and the question; the word vectors
of a question's uncovered words are the only embedding calls (a few per question, cached).
"""

import math
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from app.embeddings.word_vectors import WordVectors
from app.language.lemmas import content_lemmas, negated
from app.verified_answers.matcher import Candidate, FittedMatcher

FEATURE_NAMES = (
    "nearest_phrasing",
    "classifier_margin",
    "answer_relevance",
    "uncovered_share",
    "foreign_weight",
    "unknown_words",
    "word_rival_pull",
    "word_own_closeness",
    "new_negation",
    "answer_text_coverage",
    "missing_from_nearest",
)
#: At most this many uncovered words are embedded per decision (a bound on its cost).
MAX_EMBEDDED_WORDS = 6
#: A margin past this says nothing more (the guard's own threshold is 0.45).
MARGIN_CAP = 2.0


@dataclass(frozen=True)
class ClassWords:
    """The lemmas each class of one fitted matcher was asked or answered with, and in how
    many classes each lemma occurs (its IDF says how much it belongs to one topic)."""

    matcher: FittedMatcher
    #: "centroid": uncovered words against each class's mean question; "words": against
    #: each class's own words.
    word_level: str = "words"

    @cached_property
    def by_key(self) -> dict[str, frozenset[str]]:
        return {c.key: vocabulary_of(c) for c in self.matcher.candidates}

    @cached_property
    def frequency(self) -> Counter[str]:
        return Counter(lemma for lemmas in self.by_key.values() for lemma in lemmas)

    @cached_property
    def negating(self) -> frozenset[str]:
        """Classes with an approved phrasing that is itself a negation or complaint."""
        return frozenset(c.key for c in self.matcher.candidates if any(map(negated, c.texts)))

    def idf(self, lemma: str) -> float:
        return math.log((len(self.by_key) + 1) / (self.frequency[lemma] + 0.5))

    @classmethod
    def with_vocabularies(
        cls, matcher: FittedMatcher, by_key: dict[str, frozenset[str]]
    ) -> "ClassWords":
        """Word-level class words whose vocabularies were lemmatised already."""
        words = cls(matcher, "words")
        words.__dict__["by_key"] = by_key
        return words

    def vocabulary_vectors(self, word_vectors: "WordVectors") -> tuple[dict[str, int], np.ndarray]:
        """Every class word's position and its vectors, one matrix: a decision compares its
        few uncovered words with all of them in one product."""
        kept = self.__dict__.get("_vocabulary_vectors")
        if kept is None:
            vocabulary = sorted(self.frequency)
            kept = ({w: i for i, w in enumerate(vocabulary)}, word_vectors.of(vocabulary))
            self.__dict__["_vocabulary_vectors"] = kept
        return kept


def vocabulary_of(candidate: Candidate) -> frozenset[str]:
    return frozenset().union(*(content_lemmas(t) for t in (candidate.text, *candidate.texts)))


def pair_features(
    question: str,
    vector: np.ndarray,
    slot: int,
    scores: np.ndarray,
    words: ClassWords,
    word_vectors: WordVectors,
) -> np.ndarray:
    """The feature row of (question, the class in ``slot``), in ``FEATURE_NAMES`` order."""
    matcher = words.matcher
    candidate = matcher.slots[slot]
    asked = content_lemmas(question)
    own = words.by_key[candidate.key]
    # Rarest first; ties by the word itself, not by set order (which changes with
    # PYTHONHASHSEED): only the first MAX_EMBEDDED_WORDS are embedded.
    uncovered = sorted(asked - own, key=lambda lemma: (-words.idf(lemma), lemma))
    nearest = float(np.max(candidate.approved @ vector)) if candidate.approved.size else -1.0
    relevance = (
        float(candidate.answer_passage @ vector) if candidate.answer_passage is not None else 0.8
    )
    if words.word_level == "words":
        rival_pull, own_closeness = word_to_word_evidence(
            uncovered, candidate.key, words, word_vectors
        )
    else:
        rival_pull, own_closeness = _word_evidence(uncovered, slot, matcher, word_vectors)
    return np.array(
        [
            nearest,
            min(matcher.margin_of(slot, scores), MARGIN_CAP),
            relevance,
            len(uncovered) / max(len(asked), 1),
            sum(words.idf(u) for u in uncovered if words.frequency[u]),
            sum(1 for u in uncovered if not words.frequency[u]),
            rival_pull,
            own_closeness,
            float(negated(question) and candidate.key not in words.negating),
            len(asked & content_lemmas(candidate.text)) / max(len(asked), 1),
            _missing_from_nearest(asked, candidate, vector, words),
        ],
        dtype=np.float64,
    )


def _word_evidence(
    uncovered: list[str], slot: int, matcher: FittedMatcher, word_vectors: WordVectors
) -> tuple[float, float]:
    """How much the uncovered words lean to another class rather than this one (summed),
    and how close the least familiar of them is to this class (1 with none uncovered)."""
    if not uncovered:
        return 0.0, 1.0
    vectors = word_vectors.of(uncovered[:MAX_EMBEDDED_WORDS])
    centroids = matcher.centroids
    to_all = vectors @ centroids.T
    to_all[:, ~matcher.alive] = -np.inf
    own = to_all[:, slot].copy()
    to_all[:, matcher.same_answer_as(slot)] = -np.inf
    rival = to_all.max(axis=1)
    return float(np.maximum(rival - own, 0.0).sum()), float(own.min())


def word_to_word_evidence(
    uncovered: list[str], key: str, words: ClassWords, word_vectors: WordVectors
) -> tuple[float, float]:
    """Like ``_word_evidence`` but against single words: each uncovered word's closest
    word in this class's vocabulary against its closest word in any other class's."""
    if not uncovered:
        return 0.0, 1.0
    position, matrix = words.vocabulary_vectors(word_vectors)
    vectors = word_vectors.of(uncovered[:MAX_EMBEDDED_WORDS])
    similarities = vectors @ matrix.T if matrix.size else np.zeros((len(vectors), 0))
    own_columns = np.zeros(similarities.shape[1], dtype=bool)
    own_columns[[position[w] for w in words.by_key[key] if w in position]] = True
    own = _closest_of(similarities, own_columns)
    rival = _closest_of(similarities, ~own_columns)
    return float(np.maximum(rival - own, 0.0).sum()), float(own.min())


def _missing_from_nearest(
    asked: frozenset[str], candidate: Candidate, vector: np.ndarray, words: ClassWords
) -> float:
    """What the nearest approved phrasing says that the question does not (IDF-weighted):
    a look-alike keeps the phrasing's frame and drops the word it swapped out."""
    if not candidate.texts or len(candidate.texts) != len(candidate.approved):
        return 0.0
    nearest = candidate.texts[int(np.argmax(candidate.approved @ vector))]
    return sum(words.idf(lemma) for lemma in content_lemmas(nearest) - asked)


def _closest_of(similarities: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Each row's highest similarity among ``columns`` (0 when there is none)."""
    if not columns.any():
        return np.zeros(len(similarities))
    return similarities[:, columns].max(axis=1)
