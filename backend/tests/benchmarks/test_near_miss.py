"""The near-miss benchmark in a short form: one split, the real matcher and data."""

from dataclasses import replace

from benchmarks.dataset import DEFAULT_DATASET, load_intents
from benchmarks.near_miss import (
    NEAR_MISS_FILE,
    Evaluation,
    load_near_misses,
    thresholds_as_shipped,
)


def test_the_near_miss_set_is_large_and_names_existing_intents():
    intents = {item.intent for item in load_intents(DEFAULT_DATASET)}
    near = load_near_misses(NEAR_MISS_FILE)
    assert len(near) >= 200
    assert {item.looks_like for item in near} <= intents
    assert {item.answer_intent for item in near} - {None} <= intents
    assert {item.kind for item in near} == {
        "object",
        "place",
        "action",
        "negation",
        "out_of_domain",
    }


def test_the_relevance_guard_serves_fewer_look_alikes_at_high_precision(embedder):
    near = load_near_misses(NEAR_MISS_FILE)
    evaluation = Evaluation(load_intents(DEFAULT_DATASET), near, embedder)
    shipped = thresholds_as_shipped()
    guarded = evaluation.run(1, shipped)
    unguarded = evaluation.run(1, replace(shipped, min_answer_relevance=0.0))

    assert guarded["decisions"] == len(near)
    assert guarded["wrong_serve_share"] < unguarded["wrong_serve_share"] / 2
    assert guarded["probe_precision"] >= 0.98
    assert guarded["probe_no_paid_share"] > 0.3
