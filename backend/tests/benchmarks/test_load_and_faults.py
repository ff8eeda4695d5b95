"""The load and fault commands stay runnable, and their audits hold on short runs: residents
asking and rating over HTTP lose nothing, and a database crash mid-run costs fast 503s,
never a 500 or a row answered 2xx."""

from benchmarks import faults, load


def test_a_short_load_run_sheds_what_it_cannot_answer_and_loses_nothing(tmp_path):
    """Eight residents against a replica that answers two questions at a time: some are
    shed with 503 and asked again later, none is lost, nothing else fails; the baseline
    run without the bound sheds nothing; questions operators corrected come from cache."""
    report = load.main(["--clients", "8", "--seconds", "4", "--max-concurrent", "2",
                        "--cached-clients", "4", "--cached-seconds", "2",
                        "--out", str(tmp_path)])  # fmt: skip

    unbounded, bounded = report["unbounded"], report["bounded"]
    assert unbounded["process_shed"] == 0 and bounded["process_shed"] > 0
    for run in (unbounded, bounded):
        assert run["errors"] == 0, run["statuses"]
        assert run["audit"]["process_2xx"] > 0 and run["audit"]["feedback_2xx"] > 0
        assert run["audit"]["lost"] == 0
    assert bounded["cached"]["cache_share"] > 0.9, bounded["cached"]
    assert bounded["cached"]["saturated"]["cache_share"] > 0.9, bounded["cached"]
    written = (tmp_path / "load.md").read_text()
    assert "| lost (2xx without its row) | **0** | **0** |" in written


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
