"""A small schemathesis run over every endpoint, as part of every test run: generated valid
and invalid requests against the real service over HTTP get no 5xx and only documented
answers. ``python -m benchmarks.fuzz_api`` is the same with a bigger budget."""

from benchmarks.fuzz_api import OPERATOR_KEY, fuzz, service_env
from benchmarks.service import ServiceProcess


def test_generated_requests_get_no_server_error_and_only_documented_answers(database_url):
    service = ServiceProcess(service_env() | {"DATABASE_URL": database_url}).wait_ready()
    try:
        report = fuzz(service.base_url, examples=4, operator_key=OPERATOR_KEY)
    finally:
        service.stop()

    assert report.operations >= 25, "every operation of the schema is fuzzed"
    assert report.cases >= report.operations * 4
    assert report.server_errors == 0
    assert report.failures == [], report.failures[:3]
    assert report.statuses[422] > 0, "invalid requests were sent and refused"
