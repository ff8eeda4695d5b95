"""Fuzz every endpoint of the service's OpenAPI schema with schemathesis.

    python -m benchmarks.fuzz_api [--examples 15] [--seed 1] [--out DIR]

Starts the real service (``python -m app.cli serve``, its own embedded database, the
operator key set so operator endpoints are reached past authentication) and, for every
operation, sends ``--examples`` generated requests that fit the schema and as many that
break it, over HTTP on 127.0.0.1. Every response is checked: no server error (5xx), the
status documented, the body and content type as documented. Writes ``DIR/fuzz_api.json``
and ``DIR/fuzz_api.md``; exits 1 on any failure.
"""

import argparse
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from benchmarks.dataset import RESULTS_DIR
from benchmarks.service import ServiceProcess

OPERATOR_KEY = "fuzz-operator-key"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class FuzzReport:
    operations: int = 0
    cases: int = 0
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    server_errors: int = 0
    failures: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def as_dict(self) -> dict:
        return {
            "operations": self.operations,
            "cases": self.cases,
            "seconds": round(self.seconds, 1),
            "statuses": dict(sorted(self.statuses.items())),
            "server_errors": self.server_errors,
            "failures": len(self.failures),
            "failure_examples": self.failures[:20],
        }


def fuzz(base_url: str, examples: int, operator_key: str) -> FuzzReport:
    """Generated requests, ``examples`` valid and ``examples`` invalid per operation."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {operator_key}"}
    report = FuzzReport()
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        report.operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(operation, mode, examples, base_url, headers, report)
    report.seconds = time.perf_counter() - started
    return report


def _fuzz_operation(operation, mode, examples, base_url, headers, report: FuzzReport) -> None:
    # Failures are recorded, not raised: hypothesis would otherwise stop and shrink.
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def one_case(case) -> None:
        report.cases += 1
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        report.statuses[response.status_code] += 1
        if response.status_code >= 500:
            report.server_errors += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as failure:
            report.failures.append(
                {
                    "operation": operation.label,
                    "mode": mode.value,
                    "status": response.status_code,
                    "request": case.as_curl_command(headers=headers)[:500],
                    "failure": str(failure)[:800],
                }
            )

    # An operation with no input has no invalid input to send.
    with contextlib.suppress(Unsatisfiable):
        one_case()


def render_markdown(report: dict) -> str:
    statuses = ", ".join(f"{code}: {count}" for code, count in report["statuses"].items())
    lines = [
        "# API fuzzing (schemathesis)",
        "",
        "| measure | result |",
        "|---|---|",
        f"| operations | {report['operations']} |",
        f"| generated requests (valid + invalid) | {report['cases']:,} |",
        f"| server errors (5xx) | **{report['server_errors']}** |",
        f"| failed checks (status, content type, body schema) | **{report['failures']}** |",
        f"| responses by status | {statuses} |",
        f"| time | {report['seconds']} s |",
    ]
    for failure in report["failure_examples"]:
        lines += ["", f"- `{failure['operation']}` ({failure['mode']}): {failure['failure']}"]
    return "\n".join(lines) + "\n"


def service_env() -> dict[str, str]:
    return {
        "ADMIN_API_KEY": OPERATOR_KEY,
        # One client sends everything: limits would answer most cases with 429.
        "RATE_LIMIT_CLIENT_PER_MINUTE": "0",
        "RATE_LIMIT_SESSION_PER_MINUTE": "0",
    }


def main(argv: list[str] | None = None) -> FuzzReport:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=15, help="per operation and mode")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)

    service = ServiceProcess(service_env()).wait_ready()
    try:
        report = fuzz(service.base_url, args.examples, OPERATOR_KEY)
    finally:
        service.stop()
    result = report.as_dict() | {"examples_per_operation_and_mode": args.examples}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fuzz_api.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    (args.out / "fuzz_api.md").write_text(render_markdown(result), encoding="utf-8")
    print(render_markdown(result))
    if report.failed or report.server_errors:
        raise SystemExit(1)
    return report


if __name__ == "__main__":
    main()
