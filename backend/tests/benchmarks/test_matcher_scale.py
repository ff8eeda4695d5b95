"""The matcher-scale command stays runnable and reports what the README quotes."""

import json

from benchmarks import matcher_scale


def test_a_small_run_reports_every_figure_for_every_size(tmp_path):
    report = matcher_scale.main(
        ["--sizes", "600", "1500", "--changes", "3", "--out", str(tmp_path)]
    )
    assert [row["verified_questions"] >= size for row, size in
            zip(report["sizes"], (600, 1500), strict=True)] == [True, True]  # fmt: skip
    for row in report["sizes"]:
        assert row["update_p50_ms"] > 0 and row["refit_s"] > 0 and row["matcher_arrays_mb"] > 0
        assert 0 <= row["probe_served_share"] <= 1 and 0 <= row["near_miss_wrong_share"] <= 1
    assert report["real_classes_only"]["probe_precision"] == 1.0
    written = json.loads((tmp_path / "matcher_scale.json").read_text())
    assert written["sizes"] == report["sizes"]
    assert "| 1,5" in (tmp_path / "matcher_scale.md").read_text()
