"""The pieces ``benchmarks/cluster.py`` runs besides HAProxy (``tests/support/haproxy.py``):
the workers as processes, and the data a retraining run needs."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.dataset import BACKEND_DIR
from benchmarks.traffic import CrashableDatabase

UNHELPFUL = "Уточните, пожалуйста, этот вопрос у диспетчера."


class Workers:
    """``python -m deploy.worker`` processes, each naming itself to PostgreSQL
    (``application_name``) so the one holding a job can be found."""

    def __init__(self, env: dict[str, str], count: int, directory: Path) -> None:
        self.env = env
        self.directory = directory
        self.processes: list[subprocess.Popen | None] = [None] * count
        for index in range(count):
            self.start(index)

    def name(self, index: int) -> str:
        return f"cluster-worker-{index + 1}"

    def start(self, index: int) -> None:
        url = self.env["DATABASE_URL"]
        joiner = "&" if "?" in url else "?"
        env = self.env | {"DATABASE_URL": f"{url}{joiner}application_name={self.name(index)}"}
        log = (self.directory / f"{self.name(index)}.log").open("a")
        self.processes[index] = subprocess.Popen(
            [sys.executable, "-m", "deploy.worker"],
            cwd=BACKEND_DIR, env=dict(os.environ) | env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def kill(self, index: int) -> None:
        process = self.processes[index]
        assert process is not None
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def wait_ready(self, connect, timeout: float = 180) -> None:
        """Every worker has registered with the queue (it sends heartbeats)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with connect() as connection:
                count = connection.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
            if count[0] >= len(self.processes):
                return
            time.sleep(0.5)
        raise TimeoutError("the workers did not start")

    def wait_for_lock_waiter(self, connect, timeout: float) -> int:
        """The worker whose database session is waiting on a row lock: the one holding the
        blocked job."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with connect() as connection:
                row = connection.execute(
                    "SELECT application_name FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND application_name LIKE 'cluster-worker-%'"
                ).fetchone()
            if row is not None:
                return int(row[0].rsplit("-", 1)[1]) - 1
            time.sleep(0.2)
        raise TimeoutError("no worker took the blocked job")

    def stop(self) -> None:
        for process in self.processes:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            if process is not None:
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()


class ClusterSeed:
    """The settings every process of the cluster shares, and the dialogs a retraining run
    learns from (approved answers about the windows, a week of poorly rated paid answers)."""

    def __init__(self, database: CrashableDatabase, directory: Path) -> None:
        self.database = database
        self.directory = directory

    def environment(self, llm_url: str, admin_key: str, client_limit: int) -> dict[str, str]:
        from training.tiny_model import build_tiny_model

        base = build_tiny_model(self.directory / "tiny-base", "gpt2", hidden_size=64)
        return {
            "DATABASE_URL": self.database.url,
            "DATA_DIR": str(self.directory / "data"),
            "MIGRATE_ON_START": "false",
            "ADMIN_API_KEY": admin_key,
            "EMERGENT_LLM_KEY": "cluster",
            "LLM_BASE_URL": llm_url,
            "LLM_MAX_RETRIES": "0",
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
            "RATE_LIMIT_STORE": "postgres",
            "RATE_LIMIT_CLIENT_PER_MINUTE": str(client_limit),
            "RATE_LIMIT_SESSION_PER_MINUTE": "0",
            "LOG_LEVEL": "WARNING",
            "RETRAINING_BASE_MODEL": str(base),
            "RETRAINING_LORA": "false",
            "RETRAINING_MAX_STEPS": "2",
            "RETRAINING_BATCH_SIZE": "8",
            "GOLDEN_SET_MIN_ITEMS": "5",
            "MIN_RATED_FOR_DECISION": "10",
            "RETRAINING_MIN_NEW_SAMPLES": "10",
            "WORKER_STALLED_SECONDS": "2",
            "CANARY_SHARE": "0",
        }

    def history(self) -> None:
        intent = next(
            json.loads(line)
            for line in (BACKEND_DIR / "datasets" / "dialogs_dev.jsonl").read_text().splitlines()
            if json.loads(line)["reference_answer"].startswith("Окна")
        )
        month_ago = datetime.now(UTC) - timedelta(days=20)
        rows = [(q, intent["reference_answer"], 5, month_ago) for q in intent["questions"]]
        rows += [(f"Вопрос жильца {n}", UNHELPFUL, 1, datetime.now(UTC)) for n in range(40)]
        with self.database.connect() as connection:
            for number, (question, answer, rating, when) in enumerate(rows):
                connection.execute(
                    "INSERT INTO voice_logs (user_message, ai_response, model_used, "
                    "answer_source, response_time, session_id, rating, created_at) "
                    "VALUES (%s, %s, 'gpt-4o-mini', 'llm', 0.1, %s, %s, %s)",
                    (question, answer, f"seed-{number}", rating, when),
                )
            connection.commit()
