"""The matcher kept by updates is the matcher a refit would give.

Random unit vectors stand in for e5's (the algebra does not care what they mean); the
reference is the textbook ridge solve the matcher used to run after every change.
"""

import numpy as np
import pytest

from app.verified_answers.matcher import (
    LOCAL_CLASSES,
    MIN_DEAD_TO_COMPACT,
    FittedMatcher,
    MatcherBuilder,
    MatchThresholds,
    candidate,
)
from app.verified_answers.matcher_store import RidgeSums

WIDTH = 32


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.normal(size=(n, WIDTH)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def answer(rng: np.random.Generator, key: str, phrasings: int = 3, *, verified=True):
    centre = unit(rng, 1)[0]
    approved = centre + 0.3 * unit(rng, phrasings)
    approved /= np.linalg.norm(approved, axis=1, keepdims=True)
    return candidate(
        key, f"ответ {key}", verified=verified, answer_vector=centre, approved=approved
    )


def textbook_scores(candidates, vector, alpha) -> np.ndarray:
    """Ridge one-vs-rest with ±1 targets, centred, solved from the samples themselves."""
    samples, labels = [], []
    for index, c in enumerate(candidates):
        rows = [c.answer_vector, *list(c.approved)]
        samples.extend(rows)
        labels.extend([index] * len(rows))
    x = np.asarray(samples, np.float64)
    y = -np.ones((len(labels), len(candidates)))
    y[np.arange(len(labels)), labels] = 1.0
    x_mean, y_mean = x.mean(0), y.mean(0)
    xc = x - x_mean
    weights = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ (y - y_mean))
    return (vector - x_mean) @ weights + y_mean


def scores_by_key(matcher: FittedMatcher, vector) -> dict[str, float]:
    return {r.candidate.key: r.score for r in matcher.ranked(vector, 10_000)}


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_the_sums_give_the_scores_of_the_textbook_solve(rng):
    candidates = [answer(rng, f"a{i}") for i in range(12)]
    matcher = FittedMatcher.fit(candidates, MatchThresholds())
    for vector in unit(rng, 5):
        expected = textbook_scores(candidates, vector, MatchThresholds().ridge_alpha)
        got = scores_by_key(matcher, vector)
        assert np.allclose([got[c.key] for c in candidates], expected, atol=1e-4)


def test_replacing_and_removing_answers_gives_the_matcher_a_refit_would(rng):
    candidates = [answer(rng, f"a{i}") for i in range(10)]
    builder = MatcherBuilder(candidates)
    changed = answer(rng, "a3", phrasings=5)
    added = answer(rng, "new")
    builder.change(removed=["a7", "never-there"], added=[changed, added])
    kept = [changed if c.key == "a3" else c for c in candidates if c.key != "a7"] + [added]
    updated = builder.matcher(MatchThresholds())
    refit = FittedMatcher.fit(kept, MatchThresholds())
    assert sorted(c.key for c in updated.candidates) == sorted(c.key for c in kept)
    for vector in [*unit(rng, 5), changed.approved[0], added.approved[1]]:
        a, b = scores_by_key(updated, vector), scores_by_key(refit, vector)
        assert a.keys() == b.keys()
        assert all(abs(a[k] - b[k]) < 1e-4 for k in a)
        assert updated.decide(vector).candidate == refit.decide(vector).candidate


def test_a_snapshot_in_use_is_not_changed_by_later_updates(rng):
    candidates = [answer(rng, f"a{i}") for i in range(6)]
    builder = MatcherBuilder(candidates)
    before = builder.matcher(MatchThresholds())
    question = candidates[2].approved[0]
    served_before = before.decide(question)
    assert served_before.serve and served_before.candidate.key == "a2"
    builder.change(removed=["a2"], added=[answer(rng, f"more{i}") for i in range(200)])
    after = builder.matcher(MatchThresholds())
    assert before.decide(question) == served_before
    assert len(before.candidates) == 6
    assert "a2" not in {c.key for c in after.candidates}
    assert not (after.decide(question).serve and after.decide(question).candidate.key == "a2")


def test_dead_slots_are_compacted_away_without_changing_decisions(rng):
    candidates = [answer(rng, f"a{i}") for i in range(20)]
    builder = MatcherBuilder(candidates)
    for round_ in range(MIN_DEAD_TO_COMPACT // 20 + 2):
        builder.change(removed=[], added=[answer(rng, f"a{i}") for i in range(20)])
        assert builder.live == 20, round_
    assert builder.dead >= MIN_DEAD_TO_COMPACT
    compacted = builder.compacted()
    assert compacted is not builder and compacted.dead == 0 and compacted.live == 20
    probe = unit(rng, 3)
    for vector in probe:
        assert scores_by_key(compacted.matcher(MatchThresholds()), vector).keys() == {
            f"a{i}" for i in range(20)
        }
        a = scores_by_key(builder.matcher(MatchThresholds()), vector)
        b = scores_by_key(compacted.matcher(MatchThresholds()), vector)
        assert all(abs(a[k] - b[k]) < 1e-4 for k in a)


def test_an_unverified_class_is_never_served_but_still_takes_its_questions(rng):
    served, held = answer(rng, "served"), answer(rng, "held", verified=False)
    matcher = FittedMatcher.fit([served, held], MatchThresholds())
    assert matcher.verified_count == 1
    assert not matcher.decide(held.approved[0]).serve
    assert matcher.decide(served.approved[0]).candidate.key == "served"


def test_the_sums_subtract_exactly_what_they_added(rng):
    base, extra = unit(rng, 8), unit(rng, 3)
    sums = RidgeSums.empty(WIDTH).plus(base)
    round_trip = sums.plus(extra).plus(extra, sign=-1)
    assert round_trip.count == sums.count
    assert np.allclose(round_trip.gram, sums.gram) and np.allclose(round_trip.total, sums.total)


def test_past_the_local_limit_each_question_is_decided_among_its_nearest_classes(rng):
    candidates = [answer(rng, f"a{i}") for i in range(LOCAL_CLASSES + 50)]
    few = FittedMatcher.fit(candidates[:LOCAL_CLASSES], MatchThresholds())
    many = FittedMatcher.fit(candidates, MatchThresholds())
    assert few.solver is not None, "up to the limit: one classifier over all classes"
    assert many.solver is None and many.fitted

    question = candidates[7].approved[0]
    scores = many.scores(question)
    local = np.flatnonzero(np.isfinite(scores))
    assert len(local) == LOCAL_CLASSES
    assert 7 in local, "the class of an approved phrasing is among the nearest"
    nearest = [candidates[i] for i in local]
    expected = textbook_scores(nearest, question, MatchThresholds().ridge_alpha)
    assert np.allclose(scores[local], expected, atol=1e-4)
    assert many.decide(question).candidate.key == "a7"
