"""Whether the knowledge base covers a question at all: what the offline answer may list.

The topic is covered when a line covers the question's words, weighted by how rare each word
is in the knowledge base: each question lemma's closest lemma in the line (e5 word
vectors, so «стоить» finds «рубль» and «уборщица» finds «уборщик»), averaged with the
weight of its IDF. A question about a topic the company never wrote about keeps a word no
line covers («крыша», «дача», «газон») and gets the honest "I don't know — the dispatcher"
instead of two unrelated facts. Measured in ``benchmarks/results/offline_answers.md``.
"""

import math
import threading
from collections import Counter
from collections.abc import Sequence

import numpy as np

from app.db.database import Database
from app.db.models import KnowledgeEntry
from app.embeddings.service import EmbeddingService
from app.embeddings.word_vectors import WordVectors
from app.knowledge.service import KnowledgeBase, KnowledgeFact
from app.language.lemmas import content_lemmas

#: The IDF-weighted word coverage a line needs to be listed (the curve over other values
#: is in ``benchmarks/results/offline_answers.md``).
MIN_COVERAGE = 0.905
#: A line e5 puts this close says the topic is covered by itself: word coverage misses
#: synonyms phrased apart, and no question on an uncovered topic came this close on the
#: benchmark (0.867 at most).
STRONG_SIMILARITY = 0.88


class FactRelevance:
    def __init__(self, word_vectors: WordVectors, min_coverage: float = MIN_COVERAGE) -> None:
        self.word_vectors = word_vectors
        self.min_coverage = min_coverage
        self._lemmas: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    def ranked(self, question: str, lines: Sequence[str], corpus: Sequence[str]) -> list[str]:
        """``lines`` that cover ``question``, best first; ``corpus`` (every line of the
        knowledge base) says how rare each word is."""
        asked = sorted(content_lemmas(question))
        if not asked or not lines:
            return []
        frequency = Counter(lemma for text in corpus for lemma in self._lemmas_of(text))
        weights = np.array([math.log((len(corpus) + 1) / (frequency[w] + 0.5)) for w in asked])
        vectors = self.word_vectors.of(asked)
        scored = []
        for line in lines:
            own = sorted(self._lemmas_of(line))
            if not own:
                continue
            closest = (vectors @ self.word_vectors.of(own).T).max(axis=1)
            coverage = float((closest * weights).sum() / weights.sum())
            if coverage >= self.min_coverage:
                scored.append((coverage, line))
        return [line for _, line in sorted(scored, key=lambda s: -s[0])]

    def _lemmas_of(self, text: str) -> frozenset[str]:
        with self._lock:
            found = self._lemmas.get(text)
        if found is None:
            found = content_lemmas(text)
            with self._lock:
                self._lemmas[text] = found
        return found


class KnowledgeLines:
    """The offline answer's lookup: the knowledge base's nearest lines (e5), given only
    when the question's topic is covered (:func:`listed`)."""

    #: Nearest lines read per question: the covering line is often not the nearest one.
    CANDIDATES = 8

    def __init__(
        self,
        database: Database,
        knowledge: KnowledgeBase,
        embeddings: EmbeddingService,
        relevance: FactRelevance,
        min_similarity: float = 0.0,
    ) -> None:
        self.min_similarity = min_similarity
        self.database = database
        self.knowledge = knowledge
        self.embeddings = embeddings
        self.relevance = relevance

    def for_question(self, question: str) -> list[str]:
        vector = self.embeddings.question_vector(question)
        with self.database.session() as session:
            found = self.knowledge.search(session, vector, self.CANDIDATES)
            corpus = [_passage(e) for e in self.knowledge.entries(session)]
        nearest = [(_passage(f.entry), f.entry.content, f.similarity) for f in found]
        return listed(question, nearest, corpus, self.relevance, self.min_similarity)


def listed(
    question: str,
    nearest: list[tuple[str, str, float]],
    corpus: list[str],
    relevance: FactRelevance,
    min_similarity: float = 0.0,
) -> list[str]:
    """The nearest lines, nearest first — only when the question's topic is covered: a
    line covers its words, or e5 puts a line very close. Otherwise none: «не знаю».

    Coverage decides *whether* to list, e5 *what*: the line that covers most words is
    often a neighbour of the one that answers («как часто моют подъезд» covers «мытьё
    стен» best; the nearest two hold «2 раза в неделю»). ``nearest``: (passage, line,
    similarity), nearest first."""
    if not nearest:
        return []
    passages = [passage for passage, _, _ in nearest]
    covered = nearest[0][2] >= STRONG_SIMILARITY or relevance.ranked(question, passages, corpus)
    if not covered:
        return []
    return [line for _, line, similarity in nearest if similarity >= min_similarity]


def _passage(entry: KnowledgeEntry) -> str:
    return KnowledgeFact(entry.title, entry.content).passage
