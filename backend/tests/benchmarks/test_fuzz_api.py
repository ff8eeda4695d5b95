"""A small schemathesis run over every operation, as part of every test run: all checks,
all four phases (stateful included), against the real service over HTTP — no 5xx, no
failed check. ``python -m benchmarks.fuzz_api`` is the same with a bigger budget."""

from pathlib import Path

from app.core.paths import BACKEND_DIR
from benchmarks.fuzz_api import fuzz, read_report, service_env
from benchmarks.service import ServiceProcess


def files_under(folder: Path) -> dict[str, int]:
    """Every file and when it changed (Python's bytecode caches aside: not in git)."""
    return {
        str(path): path.stat().st_mtime_ns
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_every_operation_passes_every_check_in_every_phase(database_url):
    service = ServiceProcess(service_env() | {"DATABASE_URL": database_url}).wait_ready()
    before = files_under(BACKEND_DIR)
    try:
        report = fuzz(service.base_url, max_examples=8, seed=3)
    finally:
        service.stop()

    assert files_under(BACKEND_DIR) == before, "the run leaves the work tree as it was"
    assert report.operations >= 27, "every operation of the schema is fuzzed"
    assert report.cases >= report.operations * 8
    assert report.phases == {phase: "success" for phase in
                             ("examples", "coverage", "fuzzing", "stateful")}, (
        report.failures, report.errors, report.server_errors)  # fmt: skip
    assert report.server_errors == 0
    assert report.failures == [] and report.errors == [], (report.failures, report.errors)


def test_a_failed_check_or_a_server_error_in_the_report_fails_the_run():
    raw = {
        "operations": {"tested": 27},
        "test_cases": {"generated": 300},
        "phases": {"examples": {"status": "success"}, "stateful": {"status": "failure"}},
        "failures": [
            {
                "type": "ServerError",
                "code": "ST100",
                "title": "Server error",
                "count": 2,
                "operations": ["POST /api/voice/process"],
            },
        ],
        "errors": [],
        "warnings": {"missing_test_data": [], "missing_auth": ["POST /api/voice/auth/login"]},
    }

    report = read_report(raw, seconds=1.0)

    assert report.failed and report.server_errors == 2
    assert report.phases == {"examples": "success", "stateful": "failure"}
    assert report.warnings == {"missing_auth": ["POST /api/voice/auth/login"]}
