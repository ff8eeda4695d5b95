"""Reading the next message: a request for a person, thanks, a re-ask in other words —
on real Russian phrasings, and on look-alikes that are none of these."""

import itertools
import random

import numpy as np
import pytest

from app.db.models import SignalKind
from app.feedback.implicit_signals import re_asked, read_next_message
from app.verified_answers.matcher import FittedMatcher, MatchThresholds, Placement, candidate
from tests.support.dev_data import dev_questions


def ask(embedder, previous: str, message: str):
    vectors = embedder.embed_queries([previous, message])
    return read_next_message(previous, vectors[0], message, vectors[1])


def test_the_same_question_in_other_words_is_a_re_ask(embedder):
    signal = ask(embedder, "Когда у вас моют окна в подъезде?", "Окна в подъезде когда моете?")
    assert signal.kind == SignalKind.RE_ASK
    assert signal.evidence["similarity"] >= 0.86 and signal.evidence["shared_words"]


def test_a_follow_up_or_another_question_is_not_a_re_ask(embedder):
    assert ask(embedder, "Сколько стоит уборка подъезда?", "а сколько это стоит?") is None
    assert ask(embedder, "Сколько стоит уборка подъезда?", "Когда вывозят мусор?") is None


def test_a_request_for_a_person_wins_over_a_repeated_question(embedder):
    signal = ask(embedder, "Когда моют окна?", "Когда моют окна? Соедините с оператором")
    assert signal.kind == SignalKind.ESCALATION
    assert signal.evidence == {"phrase": "соедините с оператором"}


TOGETHER = (Placement("answer-1", True, 0.3), Placement("answer-1", True, 0.05))
APART = (Placement("answer-1", True, 0.3), Placement("answer-2", True, 0.2))


def test_placed_in_the_same_answer_a_looser_paraphrase_is_a_re_ask():
    previous, question = unit(1.0, 0.0), unit(0.82, 0.572)  # cosine 0.82, no shared word
    assert re_asked("Когда моют окна?", previous, "А стёкла на лестнице чистите?", question) is None
    evidence = re_asked("Когда моют окна?", previous, "А стёкла на лестнице чистите?", question,
                        placements=TOGETHER)  # fmt: skip
    assert evidence["same_answer"] == "answer-1" and evidence["shared_words"] == []
    assert evidence["by"] == "matcher", "not worded alike: it teaches no earlier phrasing"
    assert evidence["similarity"] == pytest.approx(0.82, abs=1e-3)
    facts = (Placement("knowledge:3", False, 0.3), Placement("knowledge:3", False, 0.3))
    placed_in_a_fact = re_asked("Когда моют окна?", previous, "А стёкла чистите?", question,
                                placements=facts)  # fmt: skip
    assert placed_in_a_fact is None, "a knowledge fact spans several intents"


def test_placed_confidently_apart_close_wording_is_not_a_re_ask():
    previous, question = unit(1.0, 0.0), unit(0.91, 0.415)
    assert re_asked("Когда моют окна?", previous, "Когда моют полы?", question)
    assert re_asked("Когда моют окна?", previous, "Когда моют полы?", question,
                    placements=APART) is None  # fmt: skip


def unit(x: float, y: float) -> np.ndarray:
    vector = np.zeros(8, dtype=np.float32)
    vector[:2] = (x, y)
    return vector / np.linalg.norm(vector)


def test_the_matchers_placement_finds_re_asks_the_cosine_misses(embedder):
    """The dev set with one class per intent fitted on three phrasings: of the other seven,
    same-intent pairs are found more often with placements, different-intent pairs are not."""
    by_intent: dict[str, list[str]] = {}
    for intent, question in dev_questions():
        by_intent.setdefault(intent, []).append(question)
    texts = [q for questions in by_intent.values() for q in questions]
    vectors = dict(zip(texts, embedder.embed_queries(texts), strict=True))
    matcher = FittedMatcher.fit([
        candidate(intent, questions[0], verified=True, answer_vector=vectors[questions[0]],
                  approved=[vectors[q] for q in questions[:3]])
        for intent, questions in by_intent.items()
    ], MatchThresholds())  # fmt: skip
    held = [(intent, q) for intent, questions in by_intent.items() for q in questions[3:]]
    rng = random.Random(5)
    same = [(a, b) for a, b in itertools.combinations(held, 2) if a[0] == b[0]]
    different = [p for p in (tuple(rng.sample(held, 2)) for _ in range(4000)) if p[0][0] != p[1][0]]

    def found(pairs, placed: bool) -> float:
        hits = 0
        for (_, a), (_, b) in pairs:
            places = (matcher.placement(vectors[a]), matcher.placement(vectors[b]))
            hits += bool(re_asked(a, vectors[a], b, vectors[b],
                                  placements=places if placed else (None, None)))  # fmt: skip
        return hits / len(pairs)

    assert found(same, True) >= found(same, False) + 0.1
    assert found(different, True) <= 0.06
