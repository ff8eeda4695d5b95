"""Load: many residents at once against the running service, then the audit.

    python -m benchmarks.load [--clients 200] [--seconds 60] [--feedback-share 0.5]
                              [--max-concurrent 8] [--cached-clients 50] [--out DIR]

Starts an embedded PostgreSQL, a simulated paid LLM on 127.0.0.1 (answers after 200 ms, in a
process of its own so the load generator does not slow it down) and
the service (``python -m app.cli serve``) on that database, then runs ``--clients``
concurrent residents for ``--seconds``: each asks a question from the dev dataset in its own
conversation and rates the answer (with its feedback token) ``--feedback-share`` of the
time, again and again; a question refused with 503 is asked again after the
``Retry-After-Ms`` the service gave. This is done twice in one command, each on a fresh
database: first with no bound on questions in flight (the baseline: everything queues),
then with ``MAX_CONCURRENT_REQUESTS=--max-concurrent`` (the service sheds). Reported for
each: latency percentiles of the *answered* questions as the residents saw them and as the
service's own ``/metrics`` histogram saw them, the share shed, every other non-2xx, the audit
(each 2xx request has its row) and how late the load generator's own event loop ran. Each
resident has its own connection, as each phone has.

Before that, on the bounded service at rest, ``--cached-clients`` residents ask only
questions an operator has corrected (one per dev intent, in the words it was corrected for) for
``--cached-seconds``, each about ``--cached-think`` seconds after its last answer (a person
reads the answer and asks the next): the latency of answers served from the verified-answer
cache. Then the same with no pause at all, which measures the service's throughput rather
than a resident's wait.

Rate limits are off (every resident comes from 127.0.0.1). Writes ``DIR/load.json`` and
``DIR/load.md``; exits 1 if anything was lost, or if the bounded service gave anything but
200 or a shed 503 (the unbounded baseline's time-outs are what it shows).
"""

import argparse
import asyncio
import json
import math
import os
import platform
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.dataset import DEFAULT_DATASET, RESULTS_DIR, load_intents
from benchmarks.paid_llm_process import PaidLLMProcess
from benchmarks.service import ServiceProcess
from benchmarks.traffic import (
    CrashableDatabase,
    Traffic,
    audit,
    latency_summary,
    run_residents,
    status_counts,
)

ADMIN_KEY = "load-operator-key"


def machine() -> str:
    return f"{os.cpu_count()} CPU cores, {platform.machine()}, Python {platform.python_version()}"


def service_env(database_url: str, llm_url: str, max_concurrent: int = 0) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "EMERGENT_LLM_KEY": "load",
        "LLM_BASE_URL": llm_url,
        "LLM_MAX_RETRIES": "0",
        "RATE_LIMIT_CLIENT_PER_MINUTE": "0",
        "RATE_LIMIT_SESSION_PER_MINUTE": "0",
        "MAX_CONCURRENT_REQUESTS": str(max_concurrent),
        "ADMIN_API_KEY": ADMIN_KEY,
    }


def summary(traffic: Traffic, seconds: float, found: dict) -> dict:
    process = traffic.of("process")
    answered = [e for e in process if e.status == 200]
    shed = [e for e in process if e.status == 503]
    everything = traffic.exchanges
    return {
        "requests": len(everything),
        "throughput_rps": round(len(answered) / seconds, 1),
        "process_answered": latency_summary(answered),
        "process_shed": len(shed),
        "shed_share": round(len(shed) / len(process), 4) if process else 0.0,
        "feedback": latency_summary([e for e in traffic.of("feedback") if e.status == 200]),
        "statuses": status_counts(everything),
        "errors": sum(1 for e in everything if e.status not in (200, 503)),
        "audit": found,
    }


def one_run(args, max_concurrent: int, cached: bool) -> dict:
    """A fresh database, paid model and service; the residents; the audit."""
    database = CrashableDatabase(f"load_bench_{max_concurrent}")
    llm = PaidLLMProcess(latency=args.llm_latency)
    service = ServiceProcess(service_env(database.url, llm.base_url, max_concurrent))
    try:
        service.wait_ready()
        # The cached phase first, on a service at rest: after the overload phase the service
        # spends a while finishing its queued ratings, which is not what a cached answer costs.
        cached_report = cached_answers(service.base_url, args) if cached else None
        traffic = Traffic()
        before = answered_buckets(service.base_url)
        asyncio.run(run_residents(service.base_url, args.clients, args.seconds, traffic,
                                  args.feedback_share, args.seed))  # fmt: skip
        result = summary(traffic, args.seconds, audit(database, traffic))
        result["service_clock"] = service_clock(before, answered_buckets(service.base_url))
        lag = sorted(traffic.loop_lag)
        result["generator_loop_lag_p99_ms"] = (
            round(lag[int(0.99 * (len(lag) - 1))] * 1000, 1) if lag else None
        )
        if cached_report is not None:
            result["cached"] = cached_report
    finally:
        service.stop(keep_log=args.keep_service_log)
        llm.stop()
        database.remove()
    return result


def answered_buckets(base_url: str) -> dict[float, float]:
    """The service's own latency histogram of answered questions (``GET /metrics``): how
    many took at most each bucket's seconds, counted since the service started."""
    metrics = httpx.get(f"{base_url}/metrics", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(metrics.text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "vasdom_http_request_duration_seconds_bucket"
                and labels.get("route") == "/api/voice/process"
                and labels.get("status") == "200"
            ):
                buckets[float(labels["le"])] = sample.value
    return buckets


def service_clock(before: dict[float, float], after: dict[float, float]) -> dict:
    """Answered questions timed by the service, from its first byte read to its last byte
    sent: no time in the load generator, whose one process shares the same two cores."""
    counts = {le: after[le] - before.get(le, 0.0) for le in sorted(after)}
    total = counts.get(math.inf, 0.0)
    if not total:
        return {"answered": 0}
    shares = {le: count / total for le, count in counts.items()}
    return {
        "answered": int(total),
        "within_2s_share": round(shares.get(2.0, 0.0), 4),
        "p95_at_most_s": next(le for le, share in shares.items() if share >= 0.95),
        "p99_at_most_s": next(le for le, share in shares.items() if share >= 0.99),
    }


def cached_answers(base_url: str, args) -> dict:
    """Residents asking only questions operators corrected: how fast the cache answers."""
    corrected = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for intent in load_intents(DEFAULT_DATASET):
            question = intent.questions[0]
            answer = client.post("/api/voice/process", json={"message": question}).json()
            client.post(f"/api/voice/logs/{answer['log_id']}/correction",
                        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                        json={"corrected_response": intent.reference_answer,
                              "operator": "benchmark"}).raise_for_status()  # fmt: skip
            corrected.append(question)
    return {
        "clients": args.cached_clients,
        "seconds": args.cached_seconds,
        "think_seconds": args.cached_think,
        **cached_phase(base_url, args, corrected, args.cached_think),
        "saturated": cached_phase(base_url, args, corrected, 0.0),
    }


def cached_phase(base_url: str, args, corrected: list[str], think: float) -> dict:
    """Residents asking corrected questions, ``think`` seconds apart (0: as fast as the
    service answers — its throughput, not a resident's wait)."""
    traffic = Traffic()
    residents = run_residents(
        base_url, args.cached_clients, args.cached_seconds, traffic, 0.0, args.seed,
        asked=corrected, prefix="cached", think=think,
    )  # fmt: skip
    asyncio.run(residents)
    process = traffic.of("process")
    answered = [e for e in process if e.status == 200]
    from_cache = [e for e in answered if e.answer_source == "cache"]
    return {
        "questions": len(process),
        "answered": len(answered),
        "throughput_rps": round(len(answered) / args.cached_seconds, 1),
        "cache_share": round(len(from_cache) / len(answered), 4) if answered else 0.0,
        "cache_latency": latency_summary(from_cache),
        "statuses": status_counts(process),
    }


def render_markdown(report: dict) -> str:
    unbounded, bounded = report["unbounded"], report["bounded"]

    def row(name: str, pick) -> str:
        return f"| {name} | {pick(unbounded)} | {pick(bounded)} |"

    def answered(run: dict) -> str:
        p = run["process_answered"]
        return f"{p['p50_ms']} / {p['p95_ms']} / **{p['p99_ms']}**"

    cached = bounded["cached"]
    latency = cached["cache_latency"]
    saturated = cached["saturated"]
    lines = [
        "# Load: concurrent residents against the running service",
        "",
        f"{report['clients']} clients for {report['seconds']} s on {report['machine']}; "
        f"simulated paid LLM latency {report['llm_latency_ms']} ms.",
        "",
        f"| measure | no bound (queues) | MAX_CONCURRENT_REQUESTS={report['max_concurrent']} |",
        "|---|---|---|",
        row("questions answered / per second", lambda r: f"{r['process_answered']['count']:,}"
            f" / {r['throughput_rps']}"),
        row("answered questions p50 / p95 / p99, ms", answered),
        row("questions shed (503) / share", lambda r: f"{r['process_shed']:,} / "
            f"{r['shed_share']:.1%}"),
        row("ratings p50 / p95, ms", lambda r: f"{r['feedback'].get('p50_ms')} / "
            f"{r['feedback'].get('p95_ms')}"),
        row("answers by status", lambda r: r["statuses"]),
        row("errors (not 200, not a shed 503)", lambda r: f"**{r['errors']}**"),
        row("lost (2xx without its row)", lambda r: f"**{r['audit']['lost']}**"),
        "",
        f"p99 of answered questions, bounded / unbounded: **{report['p99_ratio']}**.",
        "",
        "The same answered questions timed by the service itself (its `/metrics` histogram, "
        "first byte read to last byte sent; the load generator's own process shares the two "
        "cores and adds its delays to the times above): "
        + "; ".join(f"{name}: {clock_words(run['service_clock'])}"
                    for name, run in (("no bound", unbounded), ("bounded", bounded)))
        + ". The load generator's event loop woke up late by up to "
        f"{unbounded['generator_loop_lag_p99_ms']} / {bounded['generator_loop_lag_p99_ms']} ms "
        "(p99, no bound / bounded).",
        "",
        f"Cached answers: {cached['clients']} residents for {cached['seconds']} s asking only "
        f"questions an operator corrected, each ~{cached['think_seconds']} s after its last "
        f"answer — {cached['answered']:,} of {cached['questions']:,} "
        f"answered, {cached['cache_share']:.1%} of those from cache, p50 / p95 / p99 "
        f"{latency.get('p50_ms')} / "
        f"**{latency.get('p95_ms')}** / {latency.get('p99_ms')} ms; statuses {cached['statuses']}.",
        "",
        f"The same residents asking again the moment they are answered (the service's "
        f"throughput, not a resident's wait): {saturated['throughput_rps']} answers/s, p50 / "
        f"p95 {saturated['cache_latency'].get('p50_ms')} / "
        f"{saturated['cache_latency'].get('p95_ms')} ms; statuses {saturated['statuses']}.",
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


def clock_words(clock: dict) -> str:
    if not clock.get("answered"):
        return "nothing answered"
    return (f"{clock['within_2s_share']:.1%} within 2 s, p95 ≤ {clock['p95_at_most_s']:g} s, "
            f"p99 ≤ {clock['p99_at_most_s']:g} s")  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--feedback-share", type=float, default=0.5)
    parser.add_argument("--llm-latency", type=float, default=0.2)
    parser.add_argument("--max-concurrent", type=int, default=8)
    parser.add_argument("--cached-clients", type=int, default=50)
    parser.add_argument("--cached-seconds", type=float, default=20)
    parser.add_argument("--cached-think", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    parser.add_argument("--keep-service-log", type=Path, help="save the service's log here")
    args = parser.parse_args(argv)

    unbounded = one_run(args, 0, cached=False)
    bounded = one_run(args, args.max_concurrent, cached=True)
    report = {
        "clients": args.clients,
        "seconds": args.seconds,
        "machine": machine(),
        "llm_latency_ms": round(args.llm_latency * 1000),
        "max_concurrent": args.max_concurrent,
        "unbounded": unbounded,
        "bounded": bounded,
        "p99_ratio": round(
            bounded["process_answered"]["p99_ms"] / unbounded["process_answered"]["p99_ms"], 3
        ),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / "load.md").write_text(render_markdown(report), encoding="utf-8")
    print(render_markdown(report))
    lost = unbounded["audit"]["lost"] + bounded["audit"]["lost"]
    # The unbounded baseline's time-outs are what it is there to show; the bound's are not.
    if lost or bounded["errors"]:
        raise SystemExit(1)
    return report


if __name__ == "__main__":
    main()
