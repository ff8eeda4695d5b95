"""Faults, scripted: the paid LLM stalls, fails and talks nonsense; the database crashes and
comes back — while residents keep asking and rating. Then the audit of nothing lost.

    python -m benchmarks.faults [--clients 20] [--out DIR]

Each scenario starts a fresh embedded PostgreSQL owned by the benchmark, a paid LLM on
127.0.0.1 whose behaviour the script switches, and the service on them; residents run
through three phases (before, during, after the fault). Reported per phase: answers by
status, latency, how many came from the paid model; for the database, how fast requests
fail during the outage and how soon they succeed after it, with the same service process.
Writes ``DIR/faults.json`` and ``DIR/faults.md``; exits 1 on a lost row or a 500.
"""

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.dataset import RESULTS_DIR
from benchmarks.load import machine
from benchmarks.service import ServiceProcess
from benchmarks.traffic import (
    CrashableDatabase,
    PaidLLM,
    Traffic,
    audit,
    counted,
    latency_summary,
    run_residents,
    status_counts,
)

LLM_TIMEOUT_SECONDS = 2
CIRCUIT_OPEN_SECONDS = 5
PHASE_SECONDS = [6.0, 10.0, 10.0]  # before, during, after the fault


def service_env(database_url: str, llm_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "EMERGENT_LLM_KEY": "faults",
        "LLM_BASE_URL": llm_url,
        "LLM_TIMEOUT_SECONDS": str(LLM_TIMEOUT_SECONDS),
        "LLM_MAX_RETRIES": "0",
        "LLM_CIRCUIT_FAILURES": "3",
        "LLM_CIRCUIT_OPEN_SECONDS": str(CIRCUIT_OPEN_SECONDS),
        "RATE_LIMIT_CLIENT_PER_MINUTE": "0",
        "RATE_LIMIT_SESSION_PER_MINUTE": "0",
        "EMBEDDING_BACKFILL_SECONDS": "2",
    }


def run_scenario(
    name: str,
    clients: int,
    phases: list[float],
    start_fault: Callable[[CrashableDatabase, PaidLLM], None],
    end_fault: Callable[[CrashableDatabase, PaidLLM], None],
) -> dict:
    database = CrashableDatabase(f"faults_{name}")
    llm = PaidLLM(latency=0.1, stall_seconds=30)
    service = ServiceProcess(service_env(database.url, llm.base_url))
    try:
        service.wait_ready()
        pid = service.process.pid
        traffic = Traffic()
        marks: dict[str, float] = {}

        async def script() -> None:
            before, during, after = phases
            residents = asyncio.create_task(
                run_residents(
                    service.base_url, clients, before + during + after, traffic, 0.5, seed=7
                )
            )
            await asyncio.sleep(before)
            # Phases start once the switch is done: a crash or a restart takes a moment.
            await asyncio.to_thread(start_fault, database, llm)
            marks["fault"] = time.perf_counter() - traffic.origin
            await asyncio.sleep(during)
            await asyncio.to_thread(end_fault, database, llm)
            marks["recovered"] = time.perf_counter() - traffic.origin
            await residents

        asyncio.run(script())
        time.sleep(3)  # the embedding backfill runs every 2 s
        found = audit(database, traffic)
        with database.connect() as conn:
            unembedded = conn.execute(
                "SELECT count(*) FROM voice_logs l WHERE NOT EXISTS "
                "(SELECT 1 FROM voice_embeddings e WHERE e.log_id = l.id)"
            ).fetchone()[0]
        same_process = service.process.poll() is None and service.process.pid == pid
    finally:
        service.stop()
        llm.stop()
        database.remove()
    return summarise(name, traffic, marks, found, unembedded, same_process)


def summarise(name, traffic: Traffic, marks, found, unembedded, same_process) -> dict:
    phases = {
        "before": [e for e in traffic.exchanges if e.started < marks["fault"]],
        "during": [
            e for e in traffic.exchanges if marks["fault"] <= e.started < marks["recovered"]
        ],
        "after": [e for e in traffic.exchanges if e.started >= marks["recovered"]],
    }
    report = {"scenario": name, "phases": {}}
    for phase, exchanges in phases.items():
        answered = [e for e in exchanges if e.endpoint == "process" and e.status == 200]
        report["phases"][phase] = {
            "statuses": status_counts(exchanges),
            "latency": latency_summary(exchanges),
            "answers": len(answered),
            "from_paid_model": sum(1 for e in answered if e.answer_source == "llm"),
            "sources": counted(e.answer_source for e in answered),
            "failed_latency": latency_summary([e for e in exchanges if e.status != 200]),
        }
    after_ok = [e.started for e in phases["after"] if e.status == 200 and e.endpoint == "process"]
    report["first_success_after_recovery_s"] = (
        round(min(after_ok) - marks["recovered"], 2) if after_ok else None
    )
    report["server_errors_500"] = sum(1 for e in traffic.exchanges if e.status == 500)
    report["audit"] = found
    report["logs_without_vector_at_end"] = unembedded
    report["service_kept_running"] = same_process
    return report


def set_llm(mode: str):
    def switch(database: CrashableDatabase, llm: PaidLLM) -> None:
        llm.mode = mode

    return switch


def crash_database(database: CrashableDatabase, llm: PaidLLM) -> None:
    database.crash()


def restart_database(database: CrashableDatabase, llm: PaidLLM) -> None:
    database.start()


SCENARIOS = {
    "paid_llm_stalls": (set_llm("stall"), set_llm("ok")),
    "paid_llm_fails_500": (set_llm("error"), set_llm("ok")),
    "paid_llm_returns_garbage": (set_llm("garbage"), set_llm("ok")),
    "database_crash_and_restart": (crash_database, restart_database),
}


def render_markdown(report: dict) -> str:
    lines = [
        "# Faults: the paid LLM and the database fail while residents keep asking",
        "",
        f"{report['clients']} residents, phases {report['phase_seconds']} s (before / during "
        f"/ after the fault), {report['machine']}. LLM timeout {LLM_TIMEOUT_SECONDS} s, circuit "
        f"opens after 3 failures for {CIRCUIT_OPEN_SECONDS} s.",
        "",
        "| scenario | phase | answers by status | p95 ms (failures p95) | answered by "
        "| first 2xx after recovery | 500s | lost | service kept running |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in report["scenarios"]:
        for phase, p in s["phases"].items():
            failed = p["failed_latency"].get("p95_ms", "–")
            lines.append(
                f"| {s['scenario'] if phase == 'before' else ''} | {phase} | {p['statuses']} | "
                f"{p['latency'].get('p95_ms', '–')} ({failed}) | {p['sources']} | "
                + (
                    f"{s['first_success_after_recovery_s']} s | {s['server_errors_500']} | "
                    f"**{s['audit']['lost']}** | {s['service_kept_running']} |"
                    if phase == "before"
                    else "| | | |"
                )
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--only", choices=list(SCENARIOS), action="append")
    parser.add_argument(
        "--phase-seconds", type=float, nargs=3, default=PHASE_SECONDS, help="before during after"
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)

    results = [
        run_scenario(name, args.clients, args.phase_seconds, *SCENARIOS[name])
        for name in (args.only or list(SCENARIOS))
    ]
    report = {
        "clients": args.clients,
        "phase_seconds": args.phase_seconds,
        "machine": machine(),
        "scenarios": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "faults.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / "faults.md").write_text(render_markdown(report), encoding="utf-8")
    print(render_markdown(report))
    if any(s["audit"]["lost"] or s["server_errors_500"] for s in results):
        raise SystemExit(1)
    return report


if __name__ == "__main__":
    main()
