"""Load: many residents at once against the running service, then the audit.

    python -m benchmarks.load [--clients 200] [--seconds 60] [--feedback-share 0.5] [--out DIR]

Starts an embedded PostgreSQL, a simulated paid LLM on 127.0.0.1 (answers after 200 ms) and
the service (``python -m app.cli serve``) on that database, then runs ``--clients``
concurrent residents for ``--seconds``: each asks a question from the dev dataset in its own
conversation and rates the answer (with its feedback token) ``--feedback-share`` of the
time, again and again. Reports throughput, latency percentiles per endpoint, every non-2xx
answer, and the audit: each 2xx request has its row. Rate limits are off (every resident
comes from 127.0.0.1). Writes ``DIR/load.json`` and ``DIR/load.md``; exits 1 if anything
was lost or answered 5xx.
"""

import argparse
import asyncio
import json
import os
import platform
from pathlib import Path

from benchmarks.dataset import RESULTS_DIR
from benchmarks.service import ServiceProcess
from benchmarks.traffic import (
    CrashableDatabase,
    PaidLLM,
    Traffic,
    audit,
    latency_summary,
    run_residents,
    status_counts,
)


def machine() -> str:
    return f"{os.cpu_count()} CPU cores, {platform.machine()}, Python {platform.python_version()}"


def service_env(database_url: str, llm_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "EMERGENT_LLM_KEY": "load",
        "LLM_BASE_URL": llm_url,
        "LLM_MAX_RETRIES": "0",
        "RATE_LIMIT_CLIENT_PER_MINUTE": "0",
        "RATE_LIMIT_SESSION_PER_MINUTE": "0",
    }


def render_markdown(report: dict) -> str:
    rows = [
        "# Load: concurrent residents against the running service",
        "",
        f"{report['clients']} clients for {report['seconds']} s on {report['machine']}; "
        f"simulated paid LLM latency {report['llm_latency_ms']} ms.",
        "",
        "| measure | result |",
        "|---|---|",
        f"| requests answered / per second | {report['requests']:,} / "
        f"**{report['throughput_rps']}** |",
        f"| process p50 / p95 / p99, ms | {report['process']['p50_ms']} / "
        f"{report['process']['p95_ms']} / {report['process']['p99_ms']} |",
        f"| feedback p50 / p95 / p99, ms | {report['feedback']['p50_ms']} / "
        f"{report['feedback']['p95_ms']} / {report['feedback']['p99_ms']} |",
        f"| answers by status | {report['statuses']} |",
        f"| errors (not 2xx) | **{report['errors']}** |",
        f"| audit: 2xx process / feedback without their row | "
        f"{report['audit']['process_rows_missing']} / {report['audit']['feedback_rows_missing']}"
        f" (of {report['audit']['process_2xx']:,} / {report['audit']['feedback_2xx']:,}) |",
        f"| lost | **{report['audit']['lost']}** |",
    ]
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--feedback-share", type=float, default=0.5)
    parser.add_argument("--llm-latency", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    parser.add_argument("--keep-service-log", type=Path, help="save the service's log here")
    args = parser.parse_args(argv)

    database = CrashableDatabase("load_bench")
    llm = PaidLLM(latency=args.llm_latency)
    service = ServiceProcess(service_env(database.url, llm.base_url))
    traffic = Traffic()
    try:
        service.wait_ready()
        traffic = Traffic()
        asyncio.run(
            run_residents(
                service.base_url,
                args.clients,
                args.seconds,
                traffic,
                args.feedback_share,
                args.seed,
            )
        )
        found = audit(database, traffic)
    finally:
        service.stop(keep_log=args.keep_service_log)
        llm.stop()
        database.remove()

    everything = traffic.exchanges
    report = {
        "clients": args.clients,
        "seconds": args.seconds,
        "machine": machine(),
        "llm_latency_ms": round(args.llm_latency * 1000),
        "requests": len(everything),
        "throughput_rps": round(len(everything) / args.seconds, 1),
        "process": latency_summary(traffic.of("process")),
        "feedback": latency_summary(traffic.of("feedback")),
        "statuses": status_counts(everything),
        "errors": sum(1 for e in everything if e.status != 200),
        "audit": found,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / "load.md").write_text(render_markdown(report), encoding="utf-8")
    print(render_markdown(report))
    if found["lost"] or any(e.status >= 500 for e in everything):
        raise SystemExit(1)
    return report


if __name__ == "__main__":
    main()
