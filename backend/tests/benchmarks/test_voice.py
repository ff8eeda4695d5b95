"""The voice benchmark's figures from known transcripts and timings."""

import pytest

pytest.importorskip("jiwer")

from benchmarks.voice import normalised, report_of


def test_transcripts_are_compared_without_case_punctuation_or_yo():
    assert normalised("Ещё раз: КАК часто моют подъезд?!") == "еще раз как часто моют подъезд"


def test_the_report_counts_word_errors_same_answers_refusals_and_added_latency():
    band = {
        "refs": ["как часто моют подъезд", "кто моет лифт"],
        "hyps": ["как часто мой подъезд", ""],  # one word wrong; one recording refused
        "same": [True, False],
        "added": [1.0, 3.0],
    }
    measured = {"bands": {"16 kHz webm/opus": band, "8 kHz wav": band}, "speaking": [0.5, 1.5]}

    report = report_of(measured, questions=2)

    first = report["bands"]["16 kHz webm/opus"]
    assert first["wer"] == pytest.approx(4 / 7, abs=1e-4)  # 1 wrong word, 3 of the refused
    assert first["same_answer_share"] == 0.5 and first["refused"] == 1
    assert first["added_latency_p50_s"] == 2.0 and first["added_latency_p95_s"] == 2.9
    assert report["speaking_answer_p50_s"] == 1.0
