"""The verifier's parts: a logistic model that can be read and stored, and training pairs
the service makes from its own approved phrasings."""

import numpy as np
import pytest

from app.embeddings.word_vectors import WordVectors
from app.verified_answers.logistic import LogisticModel
from app.verified_answers.matcher import MatchThresholds, candidate
from app.verified_answers.verifier_features import FEATURE_NAMES
from app.verified_answers.verifier_training import leave_one_out_pairs


def test_the_logistic_model_separates_what_it_was_shown_and_round_trips():
    rng = np.random.default_rng(0)
    features = np.vstack([rng.normal(1, 0.5, (50, 2)), rng.normal(-1, 0.5, (50, 2))])
    labels = np.r_[np.ones(50), np.zeros(50)]
    model = LogisticModel.fit(features, labels)
    assert model.probability(np.array([[1.5, 1.5]]))[0] > 0.9
    assert model.probability(np.array([[-1.5, -1.5]]))[0] < 0.1
    again = LogisticModel.from_dict(model.as_dict())
    assert np.allclose(again.probability(features), model.probability(features))


def test_one_kind_of_example_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="both kinds"):
        LogisticModel.fit(np.zeros((5, 2)), np.ones(5))


def test_a_stored_model_whose_arrays_disagree_is_refused():
    with pytest.raises(ValueError, match="disagree"):
        LogisticModel.from_dict({"mean": [0, 0], "scale": [1, 1], "weights": [0, 1]})


def test_leave_one_out_makes_a_yes_and_a_no_for_every_phrasing_taken_out(embedder):
    topics = {
        "окна": ["Когда моют окна в подъезде?", "Окна в подъезде когда помоют?",
                 "Мытьё окон в подъезде когда?"],
        "полы": ["Как часто моют полы в подъезде?", "Полы в подъезде моют часто?",
                 "Сколько раз в неделю моют полы?"],
    }  # fmt: skip
    candidates = [
        candidate(key, f"Ответ про {key}", verified=True,
                  answer_vector=embedder.embed_queries([f"Ответ про {key}"])[0],
                  approved=embedder.embed_queries(texts), texts=texts)
        for key, texts in topics.items()
    ]  # fmt: skip
    pairs = leave_one_out_pairs(candidates, MatchThresholds(), WordVectors(embedder.embed_queries))
    assert pairs.features.shape == (12, len(FEATURE_NAMES))
    assert list(pairs.labels) == [1, 0] * 6
    assert LogisticModel.fit(pairs.features, pairs.labels).probability(pairs.features).shape == (
        12,
    )
