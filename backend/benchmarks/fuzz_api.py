"""Fuzz every operation of the service's OpenAPI schema with schemathesis, all checks on.

    python -m benchmarks.fuzz_api [--max-examples 30] [--seed 1] [--out DIR]

Starts the real service (``python -m app.cli serve``, its own embedded database, the
operator key set so operator endpoints are reached past authentication) and runs the
schemathesis CLI against it over HTTP on 127.0.0.1: ``--checks all`` (no server error,
documented statuses, content types and bodies, schema-valid requests accepted and invalid
ones refused, authentication enforced, ``Allow`` headers, …) in all four phases —
examples, coverage, fuzzing and the stateful phase that chains operations through the
schema's links. Writes ``DIR/fuzz_api.json`` (with schemathesis' own JSON report) and
``DIR/fuzz_api.md``; exits 1 on any failure.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.dataset import RESULTS_DIR
from benchmarks.service import ServiceProcess

#: Per-operation settings of the run (what a refused recording means).
CONFIG_FILE = Path(__file__).parent / "data" / "schemathesis.toml"

OPERATOR_KEY = "fuzz-operator-key"
PHASES = "examples,coverage,fuzzing,stateful"


@dataclass
class FuzzReport:
    operations: int = 0
    cases: int = 0
    seconds: float = 0.0
    phases: dict = field(default_factory=dict)
    server_errors: int = 0
    failures: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.failures or self.errors or self.server_errors)

    def as_dict(self) -> dict:
        return {
            "operations": self.operations,
            "cases": self.cases,
            "seconds": round(self.seconds, 1),
            "checks": "all",
            "phases": self.phases,
            "server_errors": self.server_errors,
            "failures": sum(f["count"] for f in self.failures),
            "failure_kinds": self.failures,
            "errors": self.errors,
            "warnings": self.warnings,
        }


def schemathesis_command(base_url: str, max_examples: int, seed: int, report: Path) -> list[str]:
    return [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG_FILE),
        "run", f"{base_url}/openapi.json",
        "--checks", "all", "--phases", PHASES,
        "--header", f"Authorization: Bearer {OPERATOR_KEY}",
        "--max-examples", str(max_examples), "--seed", str(seed),
        "--generation-deterministic", "--request-timeout", "30",
        "--report", "json", "--report-json-path", str(report),
    ]  # fmt: skip


def fuzz(base_url: str, max_examples: int, seed: int = 1) -> FuzzReport:
    """Run schemathesis once over the whole schema and read its JSON report."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "schemathesis.json"
        started = time.perf_counter()
        run = subprocess.run(
            schemathesis_command(base_url, max_examples, seed, path),
            capture_output=True,
            text=True,
            timeout=3600,
            cwd=directory,  # schemathesis keeps a cache in .schemathesis/ of its folder
        )
        seconds = time.perf_counter() - started
        if not path.exists():
            raise RuntimeError(f"schemathesis wrote no report:\n{run.stdout[-3000:]}")
        raw = json.loads(path.read_text(encoding="utf-8"))
    return read_report(raw, seconds)


def read_report(raw: dict, seconds: float) -> FuzzReport:
    failures = [
        {k: f[k] for k in ("code", "title", "count", "operations")} for f in raw["failures"]
    ]
    return FuzzReport(
        operations=raw["operations"]["tested"],
        cases=raw["test_cases"]["generated"],
        seconds=seconds,
        phases={name: phase["status"] for name, phase in raw["phases"].items()},
        server_errors=sum(f["count"] for f in raw["failures"] if f["type"] == "ServerError"),
        failures=failures,
        errors=[str(error)[:500] for error in raw["errors"]],
        warnings={name: found for name, found in raw["warnings"].items() if found},
    )


def render_markdown(report: dict) -> str:
    phases = ", ".join(f"{name}: {status}" for name, status in report["phases"].items())
    lines = [
        "# API fuzzing (schemathesis, all checks, stateful phase included)",
        "",
        "| measure | result |",
        "|---|---|",
        f"| operations | {report['operations']} |",
        f"| generated test cases | {report['cases']:,} |",
        f"| phases | {phases} |",
        f"| server errors (5xx) | **{report['server_errors']}** |",
        f"| failed checks | **{report['failures']}** |",
        f"| time | {report['seconds']} s |",
    ]
    for failure in report["failure_kinds"]:
        lines += ["", f"- {failure['code']} {failure['title']} ({failure['count']}): "
                      f"{', '.join(failure['operations'])}"]  # fmt: skip
    for name, found in report["warnings"].items():
        lines += ["", f"- warning `{name}`: {', '.join(map(str, found))}"]
    return "\n".join(lines) + "\n"


def service_env() -> dict[str, str]:
    return {
        "ADMIN_API_KEY": OPERATOR_KEY,
        # One client sends everything: limits would answer most cases with 429.
        "RATE_LIMIT_CLIENT_PER_MINUTE": "0",
        "RATE_LIMIT_SESSION_PER_MINUTE": "0",
        "RATE_LIMIT_LOGIN_PER_MINUTE": "0",
    }


def main(argv: list[str] | None = None) -> FuzzReport:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=30, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)

    service = ServiceProcess(service_env()).wait_ready()
    try:
        report = fuzz(service.base_url, args.max_examples, args.seed)
    finally:
        service.stop()
    result = report.as_dict() | {"max_examples": args.max_examples, "seed": args.seed}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fuzz_api.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    (args.out / "fuzz_api.md").write_text(render_markdown(result), encoding="utf-8")
    print(render_markdown(result))
    if report.failed:
        raise SystemExit(1)
    return report


if __name__ == "__main__":
    main()
