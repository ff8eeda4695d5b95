"""The hostile-recordings benchmark in short form, as part of every test run: the bombs and
the SDP file are refused without growing the service by more than the bounds, no socket is
opened, and spoken questions sent with them are answered or shed, never lost. (How fast they
are refused is the benchmark's to measure: ``python -m benchmarks.audio_abuse``.)"""

from benchmarks import audio_abuse


def test_hostile_recordings_cost_the_service_little_memory_and_open_no_socket():
    report = audio_abuse.run(valid=2)

    targets = report["targets"]
    assert targets["single_upload_within_300mb"] and targets["all_at_once_within_1gb"]
    assert targets["no_socket_opened"]
    assert targets["valid_answered_or_shed"] and targets["answered_valid_stored"]
    hostile = [r for r in report["one_at_a_time"] + report["all_at_once"]["uploads"]
               if r["hostile"]]  # fmt: skip
    assert len(hostile) == 6 and all(r["status"] in (415, 422) for r in hostile)
    assert "## Targets" in audio_abuse.render_markdown(report)
