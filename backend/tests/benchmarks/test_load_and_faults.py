"""The load and fault commands stay runnable, and their audits hold on short runs: residents
asking and rating over HTTP lose nothing, and a database crash mid-run costs fast 503s,
never a 500 or a row answered 2xx."""

import json

from benchmarks import faults, load


def test_a_short_load_run_answers_everything_and_loses_nothing(tmp_path):
    report = load.main(["--clients", "8", "--seconds", "4", "--out", str(tmp_path)])

    assert report["requests"] > 20
    assert report["errors"] == 0
    assert report["audit"]["process_2xx"] > 0 and report["audit"]["feedback_2xx"] > 0
    assert report["audit"]["lost"] == 0
    assert json.loads((tmp_path / "load.json").read_text())["audit"]["lost"] == 0
    assert "| lost | **0** |" in (tmp_path / "load.md").read_text()


def test_a_database_crash_costs_fast_503s_and_no_accepted_row(tmp_path):
    report = faults.main(
        [
            "--only", "database_crash_and_restart",
            "--clients", "6",
            "--phase-seconds", "3", "4", "5",
            "--out", str(tmp_path),
        ]
    )  # fmt: skip

    scenario = report["scenarios"][0]
    during = scenario["phases"]["during"]
    # The phase ends once the restart is done, so its last requests may already succeed.
    assert set(during["statuses"]) <= {"200", "503"}, during["statuses"]
    assert during["statuses"]["503"] > during["statuses"].get("200", 0)
    assert during["failed_latency"]["p95_ms"] < 2000, "requests fail fast while it is down"
    assert scenario["phases"]["after"]["answers"] > 0, "the same service answers after"
    assert scenario["service_kept_running"] is True
    assert scenario["server_errors_500"] == 0
    assert scenario["audit"]["lost"] == 0
