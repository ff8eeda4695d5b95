"""The voice benchmark's figures from known transcripts and timings."""

import pytest

pytest.importorskip("jiwer")

from benchmarks.voice import normalised, report_of


def test_transcripts_are_compared_without_case_punctuation_or_yo():
    assert normalised("Ещё раз: КАК часто моют подъезд?!") == "еще раз как часто моют подъезд"


def test_the_report_counts_word_errors_same_answers_refusals_and_added_latency():
    band = {
        "refs": ["как часто моют подъезд", "кто моет лифт", "где договор"],
        # one word wrong; one recording refused; one heard word for word
        "hyps": ["как часто мой подъезд", "", "где договор"],
        "same": [True, False, False],
        "same_source": [True, False, True],
        "added": [1.0, 3.0, 2.0],
    }
    measured = {"bands": {"16 kHz webm/opus": band, "8 kHz wav": band}, "speaking": [0.5, 1.5]}

    report = report_of(measured, questions=3)

    first = report["bands"]["16 kHz webm/opus"]
    assert first["wer"] == pytest.approx(4 / 9, abs=1e-4)  # 1 wrong word, 3 of the refused
    assert first["same_answer_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert first["heard_word_for_word_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert first["same_answer_share_when_heard_word_for_word"] == 0.0
    assert first["same_source_share"] == pytest.approx(2 / 3, abs=1e-4)
    assert first["refused"] == 1
    assert first["misheard_examples"] == [
        {"said": "как часто моют подъезд", "heard": "как часто мой подъезд"},
        {"said": "кто моет лифт", "heard": ""},
    ]
    assert first["added_latency_p50_s"] == 2.0 and first["added_latency_p95_s"] == 2.9
    assert report["speaking_answer_p50_s"] == 1.0
