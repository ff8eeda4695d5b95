"""``self_learning --local auto``: the service's own automation, nothing forced.

The service runs with a local model enabled and its job worker inside
(``RUN_WORKER_IN_SERVICE``); the worker's schedule ticks every minute and queues a
retraining run by the service's own rules (a quality drop, or ``RETRAINING_EVERY_NEW_SAMPLES``
fresh approved dialogs); a candidate answers only if the golden-set gate promotes it.

Real traffic of 2,000 questions spans weeks and a run takes minutes, so whenever the
service has a run queued or running, the stream waits for it to end (and, after a
promotion, for the service to load the new version) before the next question. Every run is
recorded: the question it started at, samples, minutes, the gate's decision and figures.
"""

import re
import time
from dataclasses import asdict, dataclass
from datetime import datetime

import httpx

OPEN = {"queued", "running"}
POLL_SECONDS = 3
#: Far longer than any run on a 2-core machine; a run stuck past it is a failure to report.
RUN_TIMEOUT_SECONDS = 3 * 3600


def auto_env(base_model: str, steps: int, retrain_every: int) -> dict[str, str]:
    """Deployment settings, the same for any dataset: nothing here is tuned per intent."""
    return {
        "USE_LOCAL_MODEL": "true",
        "RUN_WORKER_IN_SERVICE": "true",
        "SCHEDULE_TICK_CRON": "* * * * *",
        "RETRAINING_EVERY_NEW_SAMPLES": str(retrain_every),
        "RETRAINING_BASE_MODEL": base_model,
        "RETRAINING_MAX_STEPS": str(steps),
        "RETRAINING_GROUNDED": "true",
        "MODEL_SYNC_SECONDS": "2",
        # A cheaper candidate as good as the active setup is promoted too (the gate's
        # second rule); a worse one never is.
        "PROMOTION_CHEAPER_MIN_SHARE": "0.3",
        "LOCAL_MAX_NEW_TOKENS": "96",
    }


@dataclass
class RunRecord:
    run_id: int
    queued_at_question: int
    status: str
    reasons: list[str]
    samples: int | None
    minutes: float | None
    gate: list[str]
    candidate: dict | None
    active: dict | None


class RetrainingWatch:
    """Follows the service's retraining runs over its operator API."""

    def __init__(self, client: httpx.Client, admin_key: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {admin_key}"}
        self.records: list[RunRecord] = []
        self._recorded: set[int] = set()

    def runs(self) -> list[dict]:
        response = self.client.get(
            "/api/voice/retraining/runs", params={"limit": 50}, headers=self.headers
        )
        response.raise_for_status()
        return response.json()

    def wait_for_open_runs(self, question_index: int, say) -> None:
        """Hold the stream while a run is queued or running; record the runs that end."""
        runs = self.runs()
        if not any(run["status"] in OPEN for run in runs):
            return
        say(f"question {question_index}: a retraining run is open; the stream waits")
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while any(run["status"] in OPEN for run in runs):
            if time.monotonic() > deadline:
                raise RuntimeError(f"retraining did not end within {RUN_TIMEOUT_SECONDS} s")
            time.sleep(POLL_SECONDS)
            runs = self.runs()
        for run in sorted(runs, key=lambda r: r["id"]):
            if run["id"] not in self._recorded:
                self._recorded.add(run["id"])
                self.records.append(record_of(run, question_index))
                say(f"run {run['id']}: {run['status']} — {'; '.join(self.records[-1].gate)}")
                if run["status"] == "promoted":
                    self.wait_until_serving(run["candidate_version_id"])

    def wait_until_serving(self, version_id: int, timeout: float = 600) -> None:
        """The service follows the registry every ``MODEL_SYNC_SECONDS``; wait until the
        promoted version loaded (or failed to: then the status says so)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            versions = self.client.get("/api/voice/models", headers=self.headers).json()
            name = next(v["name"] for v in versions if v["id"] == version_id)
            status = self.client.get("/api/voice/self-learning/status", headers=self.headers).json()
            if status.get("current_model") == f"local:{name}":
                return
            time.sleep(POLL_SECONDS)
        raise RuntimeError(f"promoted version {version_id} was not loaded within {timeout} s")

    def report(self) -> list[dict]:
        return [asdict(record) for record in self.records]


def record_of(run: dict, question_index: int) -> RunRecord:
    result = run.get("result") or {}
    gate = result.get("gate") or {}
    minutes = None
    if run.get("started_at") and run.get("finished_at"):
        started = _timestamp(run["started_at"])
        minutes = round((_timestamp(run["finished_at"]) - started) / 60, 1)
    samples = None
    for entry in run.get("log") or []:
        found = re.match(r"(\d+) samples in ", entry.get("message", ""))
        if entry.get("step") == "export" and found:
            samples = int(found.group(1))
    errors = [e["message"] for e in run.get("log") or [] if e.get("step") == "error"]
    return RunRecord(
        run_id=run["id"],
        queued_at_question=question_index,
        status=run["status"],
        reasons=run.get("reasons") or [],
        samples=samples,
        minutes=minutes,
        gate=gate.get("reasons") or errors,
        candidate=gate.get("candidate"),
        active=gate.get("active"),
    )


def _timestamp(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()
