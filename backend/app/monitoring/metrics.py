"""What Prometheus scrapes from ``GET /metrics``: request latencies, answers by source, paid
tokens and cost, ratings, cache decisions (counted in this process; Prometheus sums the
replicas), and, read from the database or the process at scrape time, retraining runs by
status, running experiments and the paid model's circuit.

One registry per service instance (``Metrics``), not prometheus_client's global one: two
apps in one process (tests) or a worker beside the service never share counters.
"""

from collections.abc import Callable, Iterable
from types import MappingProxyType

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from app.db.database import Database
from app.db.models import Experiment, ExperimentStatus, RetrainingRun, VoiceLog

#: Seconds: a cached answer takes milliseconds, a paid one seconds, a spoken one a few more.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16)
CIRCUIT_STATES = MappingProxyType({"closed": 0, "half-open": 1, "open": 2})


class DatabaseCollector(Collector):
    """Figures that live in the database, read when Prometheus scrapes: the same on every
    replica, whichever process changed them (a worker's retraining, another replica's
    experiment)."""

    def __init__(self, database: Database, circuit: Callable[[], str | None]) -> None:
        self.database = database
        self.circuit = circuit

    def collect(self) -> Iterable[GaugeMetricFamily]:
        runs = GaugeMetricFamily(
            "vasdom_retraining_runs", "Retraining runs by status", labels=["status"]
        )
        experiments = GaugeMetricFamily(
            "vasdom_experiments_running", "Experiments running now, by kind", labels=["kind"]
        )
        with self.database.session() as session:
            for status, count in session.execute(
                select(RetrainingRun.status, func.count()).group_by(RetrainingRun.status)
            ):
                runs.add_metric([status], count)
            for kind, count in session.execute(
                select(Experiment.kind, func.count())
                .where(Experiment.status == ExperimentStatus.RUNNING)
                .group_by(Experiment.kind)
            ):
                experiments.add_metric([kind], count)
        yield runs
        yield experiments
        state = self.circuit()
        if state is not None:
            circuit = GaugeMetricFamily(
                "vasdom_llm_circuit_state", "Paid model circuit: 0 closed, 1 half-open, 2 open"
            )
            circuit.add_metric([], CIRCUIT_STATES[state])
            yield circuit


class Metrics:
    def __init__(self, database: Database, circuit: Callable[[], str | None]) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "vasdom_http_request_duration_seconds", "HTTP request latency",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.answers = Counter(
            "vasdom_answers", "Answers given, by source", ["source"], registry=self.registry
        )
        self.cache_decisions = Counter(
            "vasdom_cache_decisions", "Questions served from the verified-answer cache or not",
            ["outcome"], registry=self.registry,
        )  # fmt: skip
        self.paid_tokens = Counter(
            "vasdom_paid_tokens", "Tokens billed by the paid model", ["kind"],
            registry=self.registry,
        )  # fmt: skip
        self.paid_cost = Counter(
            "vasdom_paid_cost_usd", "What the paid model billed, USD", registry=self.registry
        )
        self.shed = Counter(
            "vasdom_shed_requests", "Questions refused with 503 because the replica was full",
            registry=self.registry,
        )  # fmt: skip
        self.ratings = Counter(
            "vasdom_ratings", "Ratings residents gave, by stars", ["stars"], registry=self.registry
        )
        self.registry.register(DatabaseCollector(database, circuit))

    def answered(self, log: VoiceLog) -> None:
        """One answer given (typed, spoken or through the OpenAI-compatible door)."""
        self.answers.labels(log.answer_source).inc()
        served = "served" if log.answer_source == "cache" else "not_served"
        self.cache_decisions.labels(served).inc()
        if log.answer_source == "llm":
            self.paid_tokens.labels("prompt").inc(log.prompt_tokens)
            self.paid_tokens.labels("completion").inc(log.completion_tokens)
        if log.cost_usd:
            self.paid_cost.inc(log.cost_usd)

    def rated(self, stars: int) -> None:
        self.ratings.labels(str(stars)).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
