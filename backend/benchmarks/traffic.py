"""What the load and fault benchmarks share: residents sending traffic over HTTP, a paid
LLM that can be made slow or broken, a database that can be crashed and restarted, and the
audit that every request answered 2xx left its row."""

import asyncio
import json
import os
import random
import shutil
import signal
import ssl
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psycopg

from app.db.embedded import control_embedded_postgres, start_embedded_postgres
from benchmarks.dataset import DEFAULT_DATASET, load_intents
from tests.support.chat_server import ChatServer, completion

PAID_MODEL = "paid-model"


def questions(path: Path = DEFAULT_DATASET) -> list[str]:
    return [q for intent in load_intents(path) for q in intent.questions]


class PaidLLM:
    """An OpenAI-compatible server on 127.0.0.1 whose behaviour can change mid-run:
    ``ok`` (answers after ``latency`` s), ``stall`` (answers after ``stall_seconds``),
    ``error`` (HTTP 500) or ``garbage`` (a body that is not JSON)."""

    def __init__(self, latency: float = 0.2, stall_seconds: float = 30.0) -> None:
        self.mode = "ok"
        self.latency = latency
        self.stall_seconds = stall_seconds
        self.calls = 0
        self._lock = threading.Lock()
        self._server = ChatServer(self._respond, PAID_MODEL).start()
        self.base_url = self._server.base_url

    def _respond(self, request: dict, headers: Mapping[str, str]) -> tuple[int, bytes]:
        with self._lock:
            self.calls += 1
        mode = self.mode
        time.sleep(self.stall_seconds if mode == "stall" else self.latency)
        if mode == "error":
            return 500, b'{"error": {"message": "overloaded"}}'
        if mode == "garbage":
            return 200, b"<html>502 Bad Gateway</html>"
        answer = "Влажная уборка подъезда — 2 раза в неделю, по вторникам и пятницам."
        return 200, json.dumps(completion(answer, PAID_MODEL, 300, 40)).encode()

    def stop(self) -> None:
        self._server.stop()


class CrashableDatabase:
    """An embedded PostgreSQL owned by the benchmark, so it can be killed like a crashed
    server (SIGQUIT: immediate shutdown, crash recovery on the next start) and restarted."""

    def __init__(self, name: str) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="vdfault"))
        self.url = start_embedded_postgres(self.directory, database=name, stop_on_exit=False)

    @property
    def pid_file(self) -> Path:
        return self.directory / "pgdata" / "postmaster.pid"

    def crash(self) -> None:
        pid = int(self.pid_file.read_text().splitlines()[0])
        os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 30
        while self.pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)

    def start(self) -> None:
        control_embedded_postgres("start", self.directory)

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url.replace("postgresql+psycopg", "postgresql"))

    def remove(self) -> None:
        control_embedded_postgres("stop", self.directory)
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class Exchange:
    endpoint: str  # process | feedback
    started: float  # seconds since the run began
    seconds: float
    status: int  # 0: no HTTP answer (connection refused, timeout)
    log_id: int | None = None
    rating: int | None = None
    model_used: str | None = None
    answer_source: str | None = None  # llm | local | cache | knowledge_base | fallback
    error: str | None = None  # why there was no HTTP answer (status 0)
    retry_after_ms: int | None = None  # a shed question (503): when to try again


@dataclass
class Traffic:
    exchanges: list[Exchange] = field(default_factory=list)
    origin: float = field(default_factory=time.perf_counter)
    #: Seconds the load generator's event loop woke up late (``loop_lag``).
    loop_lag: list[float] = field(default_factory=list)

    def add(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)

    def of(self, endpoint: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.endpoint == endpoint]


async def resident(
    client: httpx.AsyncClient,
    number: int,
    asked: list[str],
    until: float,
    traffic: Traffic,
    feedback_share: float,
    rng: random.Random,
    prefix: str = "load",
    think: float = 0.0,
) -> None:
    """One resident: a question, often a rating of the answer, again until ``until``. A
    refused question is asked again after the ``Retry-After-Ms`` the service gave; an
    answered one is followed, after ``think`` seconds on average (0: at once), by the next."""
    session_id = f"{prefix}-{number}"
    if think:  # people arrive one by one, not all in the same millisecond
        await asyncio.sleep(rng.uniform(0, think))
    while time.perf_counter() < until:
        body = {"message": rng.choice(asked), "session_id": session_id}
        answer, exchange = await send(client, traffic, "process", "/api/voice/process", body)
        if answer is None or time.perf_counter() >= until:
            if answer is None:  # a real client backs off after a failure
                await asyncio.sleep((exchange.retry_after_ms or 200) / 1000)
            continue
        if rng.random() < feedback_share:
            rating = rng.randint(1, 5)
            payload = {
                "log_id": answer["log_id"],
                "rating": rating,
                "feedback_token": answer["feedback_token"],
            }
            await send(client, traffic, "feedback", "/api/voice/feedback", payload, rating)
        if think:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)


async def send(client, traffic: Traffic, endpoint: str, path: str, body: dict, rating=None):
    """The answer's body (None unless 200) and the exchange recorded."""
    started = time.perf_counter()
    error = None
    try:
        response = await client.post(path, json=body)
        status = response.status_code
    except httpx.HTTPError as failure:
        response, status, error = None, 0, type(failure).__name__
    exchange = Exchange(
        endpoint,
        started - traffic.origin,
        time.perf_counter() - started,
        status,
        rating=rating,
        error=error,
    )
    traffic.add(exchange)
    if status == 503 and "retry-after-ms" in response.headers:
        exchange.retry_after_ms = int(response.headers["retry-after-ms"])
    if status == 200:
        payload = response.json()
        exchange.log_id = payload["log_id"]
        exchange.model_used = payload.get("model_used")
        exchange.answer_source = payload.get("answer_source")
        return payload, exchange
    if endpoint == "feedback":
        exchange.log_id = body["log_id"]
    return None, exchange


async def run_residents(
    base_url: str,
    count: int,
    seconds: float,
    traffic: Traffic,
    feedback_share: float,
    seed: int,
    asked: list[str] | None = None,
    prefix: str = "load",
    think: float = 0.0,
) -> None:
    """``count`` residents for ``seconds``, asking the dev questions (or ``asked``), each
    in its conversation ``{prefix}-{number}``, ``think`` seconds between questions."""
    asked = asked or questions()
    # A connection of its own for each resident, as each phone has: one client pooling 200
    # connections spent most of a core on the pool, and its delays were counted as the
    # service's latency. Made before the clock starts, with one TLS context for all.
    tls = ssl.create_default_context()
    clients = [httpx.AsyncClient(base_url=base_url, timeout=60, verify=tls) for _ in range(count)]
    until = time.perf_counter() + seconds

    async def one(n: int, client: httpx.AsyncClient) -> None:
        async with client:
            await resident(client, n, asked, until, traffic, feedback_share,
                           random.Random(seed + n), prefix, think)  # fmt: skip

    await asyncio.gather(loop_lag(until, traffic), *(one(n, c) for n, c in enumerate(clients)))


async def loop_lag(until: float, traffic: Traffic, every: float = 0.05) -> None:
    """How late the load generator's own event loop wakes up: every exchange's time
    includes it, so it bounds what the figures can say about the service."""
    while time.perf_counter() < until:
        started = time.perf_counter()
        await asyncio.sleep(every)
        traffic.loop_lag.append(time.perf_counter() - started - every)


def audit(database: CrashableDatabase, traffic: Traffic) -> dict:
    """Every ``process`` answered 200 has its log with that id; every ``feedback`` answered
    200 has its row in ``voice_feedback`` (counted per log: nothing merged or dropped)."""
    answered = [e.log_id for e in traffic.of("process") if e.status == 200]
    accepted: dict[int, int] = {}
    for e in traffic.of("feedback"):
        if e.status == 200:
            accepted[e.log_id] = accepted.get(e.log_id, 0) + 1
    with database.connect() as conn:
        stored_logs = {
            row[0]
            for row in conn.execute(
                "SELECT id FROM voice_logs WHERE id = ANY(%s::bigint[])", (answered,)
            )
        }
        stored_ratings = dict(
            (log_id, count)
            for log_id, count in conn.execute(
                "SELECT log_id, count(*) FROM voice_feedback WHERE log_id = ANY(%s::bigint[]) "
                "GROUP BY log_id",
                (list(accepted),),
            )
        )
    lost_ratings = sum(
        max(0, count - stored_ratings.get(log_id, 0)) for log_id, count in accepted.items()
    )
    return {
        "process_2xx": len(answered),
        "process_rows_missing": len(set(answered) - stored_logs),
        "feedback_2xx": sum(accepted.values()),
        "feedback_rows_missing": lost_ratings,
        "lost": len(set(answered) - stored_logs) + lost_ratings,
    }


def latency_summary(exchanges: list[Exchange]) -> dict:
    if not exchanges:
        return {"count": 0}
    seconds = np.asarray([e.seconds for e in exchanges])
    return {
        "count": len(exchanges),
        "p50_ms": round(float(np.percentile(seconds, 50)) * 1000, 1),
        "p95_ms": round(float(np.percentile(seconds, 95)) * 1000, 1),
        "p99_ms": round(float(np.percentile(seconds, 99)) * 1000, 1),
        "max_ms": round(float(seconds.max()) * 1000, 1),
    }


def counted(values) -> dict[str, int]:
    """How often each value occurs, in a stable order for reports."""
    return dict(sorted(Counter(values).items()))


def status_counts(exchanges: list[Exchange]) -> dict[str, int]:
    return counted(str(e.status) if e.status else f"no answer ({e.error})" for e in exchanges)
