"""Canaries through the running service (``benchmarks.experiments``' end-to-end part).

A service with a local model on an embedded database; two candidate versions (a tiny GPT-2
built here) each become a canary experiment, as the retraining job makes them
(``Experiments.create`` with ``canary_version_id``); simulated residents ask and rate
through the HTTP API, each from its own address, with ratings drawn from what their arm is
known to deserve; between rounds the worker's look (``Referee.look``) decides and acts.
The canary residents like less must be rolled back, the one they like more promoted, and
then every new conversation answered by it.
"""

import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import select

from app.alerts.service import Alerts
from app.core.config import Settings
from app.db.database import Database
from app.db.embedded import start_embedded_postgres
from app.db.models import ExperimentKind, ModelStatus, ModelVersion
from app.experiments.assignment import assign
from app.experiments.referee import Referee
from app.experiments.service import REFRESH_SECONDS, ArmSpec, Experiments
from benchmarks.service import ServiceProcess
from training.tiny_model import build_tiny_model

QUESTIONS = ["Как часто моют подъезд?", "Когда моют окна?", "Как позвонить диспетчеру?"]
LOOK_EVERY = 20
MAX_CONVERSATIONS = 2000


class Residents:
    """Residents of the simulation: each conversation a new person, with its own address."""

    def __init__(self, base_url: str, rng: np.random.Generator) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=60)
        self.rng = rng
        self.count = 0

    def converse(self, ratings: np.ndarray) -> dict:
        """Ask one question and rate the answer from ``ratings`` (1–5★ probabilities)."""
        self.count += 1
        address = {"X-Forwarded-For": f"10.{self.count >> 16 & 255}.{self.count >> 8 & 255}."
                                      f"{self.count & 255 or 1}"}  # fmt: skip
        session_id = f"canary-resident-{self.count}"
        question = QUESTIONS[self.count % len(QUESTIONS)]
        answer = self.client.post("/api/voice/process", headers=address,
                                  json={"message": question, "session_id": session_id})  # fmt: skip
        answer.raise_for_status()
        body = answer.json()
        rating = int(self.rng.choice(np.arange(1, 6), p=ratings))
        self.client.post("/api/voice/feedback", headers=address, json={
            "log_id": body["log_id"], "rating": rating, "feedback_token": body["feedback_token"],
        }).raise_for_status()  # fmt: skip
        return body


def register_candidates(database: Database, path: Path, names: list[str]) -> dict[str, int]:
    with database.transaction() as session:
        rows = [ModelVersion(name=name, base_model="tiny-gpt2", path=str(path)) for name in names]
        session.add_all(rows)
        session.flush()
        return {row.name: row.id for row in rows}


def one_canary(service, database, settings, version: tuple[str, int], truths, share, rng) -> dict:
    """Run a canary of ``version`` until the referee decides; what happened. ``truths``:
    the rating probabilities of the control arm and of the canary."""
    control, truth = truths
    name, version_id = version
    with database.transaction() as session:
        active = session.scalar(
            select(ModelVersion.id).where(ModelVersion.status == ModelStatus.ACTIVE)
        )
        experiment = Experiments(database).create(
            session, f"Канарейка {name}", ExperimentKind.MODEL,
            [ArmSpec("текущая", 1 - share, True, active),
             ArmSpec("кандидат", share, False, version_id)],
            created_by="benchmark", canary_version_id=version_id,
        )  # fmt: skip
        experiment_id = experiment.id
        arms = [(str(arm.id), arm.share) for arm in experiment.arms]
        canary_arm = str(experiment.arms[1].id)
    residents, referee, looked = (
        Residents(service.base_url, rng),
        Referee(database, settings, Alerts(database, settings)),
        {},
    )
    answered = {True: Counter(), False: Counter()}
    started = time.perf_counter()
    while residents.count < MAX_CONVERSATIONS:
        for _ in range(LOOK_EVERY):
            in_canary = assign(experiment_id, f"canary-resident-{residents.count + 1}", arms)
            answer = residents.converse(truth if in_canary == canary_arm else control)
            answered[in_canary == canary_arm][answer["model_used"]] += 1
        looked = referee.look(experiment_id)
        if looked["outcome"] != "continue":
            break
    with database.session() as session:
        status = session.get(ModelVersion, version_id).status
    return {
        "version": name, "canary_share": share, "outcome": looked.get("outcome"),
        "winner": looked.get("arm"), "conversations": residents.count,
        "version_status": status, "seconds": round(time.perf_counter() - started, 1),
        "answered_by_in_canary_arm": dict(answered[True]),
        "answered_by_in_control_arm": dict(answered[False]),
    }  # fmt: skip


def served_to_everyone(service, control, rng) -> dict:
    """After promotion: once the service has followed the registry (every
    ``MODEL_SYNC_SECONDS``), the share of new conversations not served from the cache
    that the local model answers — before, the control arm had no local model at all."""
    residents = Residents(service.base_url, rng)
    residents.count = 100_000
    time.sleep(REFRESH_SECONDS + 1)  # the ended experiment leaves the service's arms
    deadline = time.monotonic() + 60
    while not residents.converse(control)["model_used"].startswith("local:"):
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    answered = Counter(residents.converse(control)["model_used"] for _ in range(30))
    generated = sum(n for used, n in answered.items() if used != "cache")
    local = sum(n for used, n in answered.items() if used.startswith("local:"))
    return {
        "promoted_canary_answers_share": round(local / generated, 3) if generated else None,
        "answered_by_after_promotion": dict(answered),
    }


def run_canaries(truths: dict[str, np.ndarray], seed: int = 7, share: float = 0.25) -> dict:
    """``truths``: rating probabilities of ``control``, and of the ``worse`` and ``better``
    canaries."""
    rng = np.random.default_rng(seed)
    work = Path(tempfile.mkdtemp(prefix="vdcanary"))
    tiny = build_tiny_model(work / "tiny", hidden_size=32)
    service = ServiceProcess({
        "USE_LOCAL_MODEL": "true", "LOCAL_MIN_CONFIDENCE": "0", "LOCAL_MAX_NEW_TOKENS": "12",
        "MODEL_SYNC_SECONDS": "1", "RATE_LIMIT_CLIENT_PER_MINUTE": "0",
        "RATE_LIMIT_SESSION_PER_MINUTE": "0", "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }).wait_ready()  # fmt: skip
    url = start_embedded_postgres(service.data_dir, stop_on_exit=False)
    database = Database(url)
    settings = Settings(_env_file=None, DATABASE_URL=url, DATA_DIR=str(service.data_dir))
    try:
        versions = register_candidates(database, tiny, ["canary-worse", "canary-better"])
        control = truths["control"]
        worse = one_canary(service, database, settings, ("canary-worse", versions["canary-worse"]),
                           (control, truths["worse"]), share, rng)  # fmt: skip
        better = one_canary(service, database, settings,
                            ("canary-better", versions["canary-better"]),
                            (control, truths["better"]), share, rng)  # fmt: skip
        everyone = served_to_everyone(service, control, rng)
    finally:
        database.dispose()
        service.stop()
    return {
        "canary_rolled_back": worse["version_status"] == ModelStatus.REJECTED,
        "canary_promoted": better["version_status"] == ModelStatus.ACTIVE,
        "canaries": [worse, better],
    } | everyone
