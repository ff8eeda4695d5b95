"""The scale-out topology on one machine, without containers: does it hold together?

    python -m benchmarks.cluster [--out DIR] [--residents 12] [--seconds 12]

Starts one embedded PostgreSQL, runs the migrations once (``python -m app.cli migrate``),
then 3 API replicas (``MIGRATE_ON_START=false``), 2 procrastinate workers
(``python -m deploy.worker``) and HAProxy running the shipped ``deploy/haproxy/haproxy.cfg``
in front of the replicas, with a simulated paid LLM on 127.0.0.1. Residents reach the
service through HAProxy, each from its own loopback address (127.0.1.N): HAProxy passes it
on in X-Forwarded-For, which the replicas trust from 127.0.0.1 only — as in production.

What it checks, each in its own phase:

1. **A correction is served everywhere.** An operator corrects an answer through replica A;
   replicas B and C are asked the question (each by its own poller, again 20 ms after each
   answer): the seconds from the correction's answer until each serves it from cache
   (``correction_visible_after_s``: the slowest of them).
2. **A client's rate limit holds across replicas.** One client asks 3× its per-minute limit
   as fast as it can through HAProxy, which spreads the questions over the three replicas;
   the limit is kept in PostgreSQL (``RATE_LIMIT_STORE=postgres``), so about the limit is
   answered, not three times it.
3. **A retraining run happens once.** Two operators ask for a run through two replicas at the
   same moment, and two workers are waiting for jobs: ``retraining_runs_started`` counts the
   runs that started (1), with their attempts and the queue's jobs.
4. **Killing a replica mid-request loses nothing.** Residents ask for ``--seconds``; a third
   of the way in, replica C is killed (SIGKILL) and started again (what systemd's
   ``Restart=always`` does). Every question answered 200 must have its row
   (``killed_replica_lost_rows``); the questions that failed with the replica are counted.
5. **Killing a worker mid-job loses nothing.** A retraining job is held at its first write
   (its run's row is locked), the worker holding it is killed, the lock released, the worker
   started again: the job is requeued and finished (``killed_worker_job_finished``).
6. **A rolling restart refuses nobody.** Residents keep asking while each replica in turn is
   drained in HAProxy (runtime socket), stopped with SIGTERM, started and put back — what
   ``deploy/systemd/rollout.sh`` does with systemctl.

Needs HAProxy (``apt-get install haproxy``) and the ML extras (the retraining trains a tiny
model built here). Writes ``DIR/report.json`` and ``DIR/report.md`` (``DIR`` is
``benchmarks/results/cluster`` by default); exits 1 when a correctness point fails.
"""

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from benchmarks.cluster_parts import ClusterSeed, Workers
from benchmarks.dataset import BACKEND_DIR, RESULTS_DIR, load_intents
from benchmarks.service import ServiceProcess
from benchmarks.traffic import CrashableDatabase, PaidLLM, Traffic, audit, send, status_counts
from tests.support.haproxy import Balancer

ADMIN_KEY = "cluster-operator-key"
OPERATOR = {"Authorization": f"Bearer {ADMIN_KEY}"}
CLIENT_LIMIT_PER_MINUTE = 60
#: A resident asks, reads the answer, asks again: below its rate limit.
THINK_SECONDS = 1.2
POLL_SECONDS = 0.02
ENDED = {"promoted", "rejected", "canary", "failed"}


@dataclass
class Cluster:
    database: CrashableDatabase
    llm: PaidLLM
    env: dict[str, str]
    replicas: list[ServiceProcess]
    workers: Workers
    balancer: Balancer
    notes: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.balancer.url

    def connect(self) -> psycopg.Connection:
        return self.database.connect()

    def replace_replica(self, index: int, *, kill: bool) -> float:
        """Stop replica ``index`` (SIGKILL, or SIGTERM as a rollout does) and start a new one
        on the same port; seconds until it is ready again."""
        old = self.replicas[index]
        started = time.monotonic()
        if kill:
            old.process.send_signal(signal.SIGKILL)
            old.process.wait(timeout=30)
        else:
            old.stop()
        self.replicas[index] = ServiceProcess(self.env, port=old.port).wait_ready()
        return time.monotonic() - started


def start_cluster(args, directory: Path) -> Cluster:
    database = CrashableDatabase("cluster_bench")
    llm = PaidLLM(latency=args.llm_latency)
    seed = ClusterSeed(database, directory)
    env = seed.environment(llm.base_url, ADMIN_KEY, CLIENT_LIMIT_PER_MINUTE)
    migrated = subprocess.run(
        [sys.executable, "-m", "app.cli", "migrate"],
        cwd=BACKEND_DIR, env=dict(os.environ) | env, capture_output=True, text=True,
    )  # fmt: skip
    if migrated.returncode != 0:
        raise RuntimeError(f"migrations failed: {migrated.stderr[-3000:]}")
    seed.history()
    replicas = [ServiceProcess(env) for _ in range(3)]
    for replica in replicas:
        replica.wait_ready()
    workers = Workers(env, count=2, directory=directory)
    balancer = Balancer([r.port for r in replicas], directory)
    balancer.wait_all_up()
    workers.wait_ready(database.connect)
    return Cluster(database, llm, env, replicas, workers, balancer)


def stop_cluster(cluster: Cluster) -> None:
    cluster.balancer.stop()
    cluster.workers.stop()
    for replica in cluster.replicas:
        replica.stop()
    cluster.llm.stop()
    cluster.database.remove()


def resident_client(base_url: str, number: int) -> httpx.Client:
    """A resident with an address of its own (127.0.1.N): HAProxy reports it to the replicas."""
    transport = httpx.HTTPTransport(local_address=f"127.0.1.{number % 250 + 1}")
    return httpx.Client(base_url=base_url, transport=transport, timeout=30)


def ask(client: httpx.Client, question: str, session_id: str) -> httpx.Response:
    return client.post("/api/voice/process", json={"message": question, "session_id": session_id})


def correction_visibility(cluster: Cluster, question: str, answer: str) -> dict:
    """Correct through replica A; how long until B and C serve it from cache."""
    a, *others = cluster.replicas
    with resident_client(a.base_url, 200) as client:
        asked = ask(client, question, "cluster-correction").json()
        correction = {"corrected_response": answer, "operator": "cluster"}
        path = f"/api/voice/logs/{asked['log_id']}/correction"
        client.post(path, headers=OPERATOR, json=correction).raise_for_status()
        corrected_at = time.monotonic()  # the correction is committed when it is answered
    seen: dict[str, float] = {}

    def poll(number: int, replica: ServiceProcess) -> None:
        with resident_client(replica.base_url, 210 + number) as client:
            attempt = 0
            while time.monotonic() - corrected_at < 30:
                reply = ask(client, question, f"cluster-poll-{number}-{attempt}").json()
                if reply.get("answer_source") == "cache" and reply["response"] == answer:
                    seen[replica.base_url] = round(time.monotonic() - corrected_at, 3)
                    return
                attempt += 1
                time.sleep(POLL_SECONDS)

    pollers = [threading.Thread(target=poll, args=pair) for pair in enumerate(others)]
    for poller in pollers:
        poller.start()
    for poller in pollers:
        poller.join()
    slowest = max(seen.values()) if len(seen) == len(others) else None
    return {"correction_visible_after_s": slowest, "per_replica_s": seen}


def shared_rate_limit(cluster: Cluster, question: str) -> dict:
    """One client, three times its limit, as fast as it can, spread over all replicas."""
    sent = 3 * CLIENT_LIMIT_PER_MINUTE
    statuses: list[int] = []
    lock = threading.Lock()

    def burst(offset: int) -> None:
        with resident_client(cluster.url, 240) as client:
            for n in range(offset, sent, 4):
                status = ask(client, question, f"cluster-limit-{n}").status_code
                with lock:
                    statuses.append(status)

    threads = [threading.Thread(target=burst, args=(k,)) for k in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    answered = statuses.count(200)
    # The bucket refills while the burst runs: the limit allows this many at most.
    allowed = CLIENT_LIMIT_PER_MINUTE + int(seconds * CLIENT_LIMIT_PER_MINUTE / 60) + 1
    return {
        "limit_per_minute": CLIENT_LIMIT_PER_MINUTE,
        "sent": sent,
        "answered": answered,
        "refused_429": statuses.count(429),
        "seconds": round(seconds, 2),
        "allowed_at_most": allowed,
        "holds_across_replicas": answered <= allowed,
    }


def retraining_once(cluster: Cluster) -> dict:
    """Two operators ask for a run through two replicas at the same moment."""
    replies: list[dict] = []

    def request(replica: ServiceProcess) -> None:
        response = httpx.post(f"{replica.base_url}/api/voice/retraining", headers=OPERATOR,
                              json={"reason": "cluster benchmark"}, timeout=30)  # fmt: skip
        replies.append({"status": response.status_code, "run": response.json().get("id")})

    threads = [threading.Thread(target=request, args=(r,)) for r in cluster.replicas[:2]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run_id = replies[0]["run"]
    status, waited = wait_for_run(cluster, run_id, timeout=600)
    with cluster.connect() as connection:
        runs, started, attempts = connection.execute(
            "SELECT count(*), count(started_at), coalesce(max(attempts), 0) FROM retraining_runs"
        ).fetchone()
        jobs = connection.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'retrain'"
        ).fetchone()[0]
    return {
        "requests": replies,
        "retraining_runs_created": runs,
        "retraining_runs_started": started,
        "attempts": attempts,
        "retrain_jobs": jobs,
        "final_status": status,
        "seconds_to_finish": round(waited, 1),
    }


def wait_for_run(cluster: Cluster, run_id: int, timeout: float) -> tuple[str, float]:
    started = time.monotonic()
    status = "queued"
    while time.monotonic() - started < timeout:
        with cluster.connect() as connection:
            status = connection.execute(
                "SELECT status FROM retraining_runs WHERE id = %s", (run_id,)
            ).fetchone()[0]
        if status in ENDED:
            break
        time.sleep(0.5)
    return status, time.monotonic() - started


def killed_worker(cluster: Cluster) -> dict:
    """A job held at its first write; the worker holding it killed and restarted."""
    with cluster.connect() as connection:
        run_id = connection.execute(
            "INSERT INTO retraining_runs (status, reasons, step, log, attempts, created_at) "
            "VALUES ('queued', '[\"killed worker\"]', 'queued', '[]', 0, now()) RETURNING id"
        ).fetchone()[0]
        connection.commit()
    with cluster.connect() as blocker:
        blocker.execute("SELECT id FROM retraining_runs WHERE id = %s FOR UPDATE", (run_id,))
        enqueue(cluster.env["DATABASE_URL"], run_id)
        holder = cluster.workers.wait_for_lock_waiter(cluster.connect, timeout=120)
        cluster.workers.kill(holder)
        blocker.rollback()
    restarted_at = time.monotonic()
    cluster.workers.start(holder)
    status, _ = wait_for_run(cluster, run_id, timeout=600)
    with cluster.connect() as connection:
        jobs = [
            row[0]
            for row in connection.execute(
                "SELECT status FROM procrastinate_jobs WHERE task_name = 'retrain' "
                "AND args->>'run_id' = %s",
                (str(run_id),),
            )
        ]
        attempts = connection.execute(
            "SELECT attempts FROM retraining_runs WHERE id = %s", (run_id,)
        ).fetchone()[0]
    finished = status in ENDED - {"failed"} and jobs == ["succeeded"]
    return {
        "killed_worker": holder,
        "final_status": status,
        "jobs": jobs,
        "attempts": attempts,
        "seconds_after_restart": round(time.monotonic() - restarted_at, 1),
        "killed_worker_job_finished": finished,
    }


def enqueue(database_url: str, run_id: int) -> None:
    from app.retraining.queue import enqueue_retraining

    enqueue_retraining(database_url, run_id)


async def residents_while(cluster: Cluster, args, traffic: Traffic, disruption) -> dict:
    """Residents asking through HAProxy while ``disruption`` (a blocking function) runs in
    a thread a third of the way in."""
    questions = [i.questions[1] for i in load_intents(args.dataset)]
    until = time.perf_counter() + args.seconds

    async def one(number: int) -> None:
        transport = httpx.AsyncHTTPTransport(local_address=f"127.0.1.{number + 1}")
        async with httpx.AsyncClient(base_url=cluster.url, transport=transport,
                                     timeout=60) as client:  # fmt: skip
            asked = 0
            while time.perf_counter() < until:
                body = {"message": questions[(number + asked) % len(questions)],
                        "session_id": f"cluster-{traffic.origin:.0f}-{number}"}  # fmt: skip
                _, exchange = await send(client, traffic, "process", "/api/voice/process", body)
                if exchange.retry_after_ms is not None:  # shed: asked again when told
                    await asyncio.sleep(exchange.retry_after_ms / 1000)
                    continue
                asked += 1
                await asyncio.sleep(THINK_SECONDS)

    async def disrupt() -> object:
        await asyncio.sleep(args.seconds / 3)
        return await asyncio.to_thread(disruption)

    *_, outcome = await asyncio.gather(*(one(n) for n in range(args.residents)), disrupt())
    return {"disruption": outcome}


def traffic_summary(cluster: Cluster, traffic: Traffic) -> dict:
    process = traffic.of("process")
    found = audit(cluster.database, traffic)
    return {
        "questions": len(process),
        "answered": sum(1 for e in process if e.status == 200),
        # A shed question (503 with when to retry) is asked again, as clients do: not a
        # failure unless it is never answered. Any other non-200 is one.
        "shed": sum(1 for e in process if e.retry_after_ms is not None),
        "failed": sum(1 for e in process if e.status != 200 and e.retry_after_ms is None),
        "statuses": status_counts(process),
        "lost_rows": found["lost"],
    }


def killed_replica(cluster: Cluster, args) -> dict:
    def kill_mid_request() -> dict:
        """SIGKILL replica C the moment HAProxy has a request in flight on it."""
        deadline = time.monotonic() + 10
        in_flight = 0
        while time.monotonic() < deadline and in_flight == 0:
            in_flight = int(cluster.balancer.stat("api3")["scur"])
        back_after = cluster.replace_replica(2, kill=True)
        return {"in_flight_when_killed": in_flight, "back_after_s": round(back_after, 1)}

    traffic = Traffic()
    result = asyncio.run(residents_while(cluster, args, traffic, kill_mid_request))
    summary = traffic_summary(cluster, traffic)
    return {**summary, **result["disruption"], "killed_replica_lost_rows": summary["lost_rows"]}


def rolling_restart(cluster: Cluster, args) -> dict:
    def roll() -> list[dict]:
        steps = []
        for index in range(len(cluster.replicas)):
            server = f"api{index + 1}"
            started = time.monotonic()
            cluster.balancer.set_state(server, "drain")
            cluster.balancer.wait_idle(server)
            cluster.replace_replica(index, kill=False)
            cluster.balancer.set_state(server, "ready")
            cluster.balancer.wait_up(server)
            steps.append({"server": server, "seconds": round(time.monotonic() - started, 1)})
        return steps

    traffic = Traffic()
    result = asyncio.run(residents_while(cluster, args, traffic, roll))
    return {**traffic_summary(cluster, traffic), "steps": result["disruption"]}


def render_markdown(report: dict) -> str:
    limit, once = report["rate_limit"], report["retraining"]
    kill, worker, roll = report["killed_replica"], report["killed_worker"], report["rollout"]
    lines = [
        "# The cluster: 3 replicas and 2 workers behind HAProxy, one PostgreSQL",
        "",
        f"`python -m benchmarks.cluster` — {report['machine']}; HAProxy running "
        "`deploy/haproxy/haproxy.cfg`; residents through it from their own addresses.",
        "",
        "| check | result |",
        "|---|---|",
        f"| a correction through replica A served by B and C (slowest) | "
        f"**{report['correction_visible_after_s']} s** {report['correction']['per_replica_s']} |",
        f"| one client, {limit['sent']} questions in {limit['seconds']} s over 3 replicas, "
        f"limit {limit['limit_per_minute']}/min | {limit['answered']} answered, "
        f"{limit['refused_429']} refused (at most {limit['allowed_at_most']} allowed) |",
        f"| two operators ask for a retraining run through two replicas, two workers | "
        f"**{report['retraining_runs_started']}** run started ({once['retraining_runs_created']}"
        f" created; trained {once['attempts']} time(s); {once['retrain_jobs']} job(s) queued — "
        f"a job for a run already taken does nothing), ended {once['final_status']} |",
        f"| replica killed (SIGKILL) with {kill['in_flight_when_killed']} request(s) in "
        f"flight on it, {report['residents']} residents asking | "
        f"**{report['killed_replica_lost_rows']}** answered questions without their row; "
        f"{kill['answered']} answered, {kill['failed']} failed {kill['statuses']}; back in "
        f"{kill['back_after_s']} s |",
        f"| worker killed mid-job, restarted | job finished: "
        f"**{report['killed_worker_job_finished']}** ({worker['final_status']}, jobs "
        f"{worker['jobs']}, {worker['seconds_after_restart']} s after the restart) |",
        f"| rolling restart of all 3 replicas under traffic | {roll['answered']} answered, "
        f"**{roll['failed']}** failed {roll['statuses']} ({roll['shed']} shed and asked "
        f"again), {roll['lost_rows']} lost |",
    ]
    return "\n".join(lines) + "\n"


def run(args) -> dict:
    directory = Path(tempfile.mkdtemp(prefix="vdcluster"))
    cluster = start_cluster(args, directory)
    try:
        intents = load_intents(args.dataset)
        corrected = correction_visibility(
            cluster, intents[0].questions[0], intents[0].reference_answer
        )
        limit = shared_rate_limit(cluster, intents[1].questions[0])
        once = retraining_once(cluster)
        replica = killed_replica(cluster, args)
        worker = killed_worker(cluster)
        rollout = rolling_restart(cluster, args)
    finally:
        stop_cluster(cluster)
    return {
        "machine": f"{os.cpu_count()} CPU cores",
        "replicas": 3,
        "workers": 2,
        "residents": args.residents,
        "correction_visible_after_s": corrected["correction_visible_after_s"],
        "retraining_runs_started": once["retraining_runs_started"],
        "killed_replica_lost_rows": replica["killed_replica_lost_rows"],
        "killed_worker_job_finished": worker["killed_worker_job_finished"],
        "correction": corrected,
        "rate_limit": limit,
        "retraining": once,
        "killed_replica": replica,
        "killed_worker": worker,
        "rollout": rollout,
    }


def passed(report: dict) -> bool:
    return (
        report["correction_visible_after_s"] is not None
        and report["correction_visible_after_s"] <= 1.0
        and report["rate_limit"]["holds_across_replicas"]
        and report["retraining_runs_started"] == 1
        and report["killed_replica_lost_rows"] == 0
        and report["killed_worker_job_finished"]
        and report["rollout"]["lost_rows"] == 0
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "cluster")
    parser.add_argument("--residents", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--llm-latency", type=float, default=0.2)
    parser.add_argument(
        "--dataset", type=Path, default=BACKEND_DIR / "datasets" / "dialogs_dev.jsonl"
    )
    args = parser.parse_args(argv)
    report = run(args)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (out / "report.md").write_text(render_markdown(report))
    print(render_markdown(report))
    if not passed(report):
        raise SystemExit(1)
    return report


if __name__ == "__main__":
    main()
