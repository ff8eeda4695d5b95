"""Emergencies are told from everyday questions that share their words: the detector's
own evaluation set (``benchmarks/data/emergencies.tsv``) and the dev questions."""

import json
from pathlib import Path

import pytest

from app.core.paths import BACKEND_DIR
from app.emergencies.detector import KINDS, EmbeddingOpinion, EmergencyDetector, kind_by_words

EMERGENCY_SET = BACKEND_DIR / "benchmarks" / "data" / "emergencies.tsv"
DEV_SET = BACKEND_DIR / "datasets" / "dialogs_dev.jsonl"


def rows(path: Path) -> list[tuple[str | None, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    pairs = [line.split("\t") for line in lines if line and not line.startswith("#")]
    return [(None if kind == "-" else kind, question) for kind, question in pairs]


EMERGENCIES = [(k, q) for k, q in rows(EMERGENCY_SET) if k is not None]
EVERYDAY = [q for k, q in rows(EMERGENCY_SET) if k is None]


def test_the_set_has_enough_of_each_side_and_every_kind():
    assert len(EMERGENCIES) >= 60 and len(EVERYDAY) >= 60
    assert {kind for kind, _ in EMERGENCIES} == set(KINDS)


@pytest.mark.parametrize(("kind", "question"), EMERGENCIES)
def test_every_emergency_is_detected_as_its_kind(kind, question):
    assert kind_by_words(question) == kind


def test_at_most_five_percent_of_everyday_questions_sharing_the_words_are_taken_for_one():
    flagged = [q for q in EVERYDAY if kind_by_words(q) is not None]
    assert len(flagged) / len(EVERYDAY) <= 0.05, flagged


def test_among_the_dev_questions_only_burst_pipes_read_as_emergencies():
    """A pipe burst on the stairs is a flood (the answer gives the emergency numbers); every
    other dev question is an everyday one."""
    flagged = []
    for line in DEV_SET.read_text(encoding="utf-8").splitlines():
        intent = json.loads(line)
        flagged += [(intent["intent"], q) for q in intent["questions"] if kind_by_words(q)]
    assert flagged and all(i == "emergency_spill" and "прорв" in q for i, q in flagged), flagged


@pytest.mark.parametrize(
    "question",
    ["Сколько стоит уборка подъезда после пожара в соседнем доме?",
     "Соседи курят на лестнице, дым идёт в квартиру",
     "Искра для розжига гриля во дворе — можно?"],
)  # fmt: skip
def test_a_veto_keeps_the_alarming_word_out_of_danger(question):
    assert kind_by_words(question) is None


def test_the_embedding_opinion_catches_a_wording_the_patterns_miss_and_stays_quiet_otherwise():
    from app.emergencies.detector import EmergencyExample

    examples = [EmergencyExample("gas", "газ"), EmergencyExample(None, "уборка")]
    vectors = [[1.0, 0.0], [0.0, 1.0]]
    detector = EmergencyDetector(EmbeddingOpinion(examples, vectors, 0.9, 0.1))
    assert detector.detect("Странно тянет чем-то у плиты", [0.99, 0.1]).kind == "gas"
    assert detector.detect("Странно тянет чем-то у плиты", [0.1, 0.99]) is None
    assert detector.detect("Пахнет газом", None).by == "words"
