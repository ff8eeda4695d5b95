"""The self-learning benchmark's optional local-model step: mid-stream, export what the
service has learned, fine-tune a local model on it, and activate it in the running service,
exactly as an operator would. Afterwards the benchmark counts how many questions the local
model answered instead of the paid one, and how well.

The base model is ``--local-base`` (a Hugging Face name, local path, ``.gguf`` file or a
bundled name such as ``smollm2-135m-instruct``; LoRA unless ``--local-full``), or by default
a small GPT-2 built from the project's own texts and trained fully.
"""

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.core.config import Settings
from app.db.database import Database
from app.db.embedded import start_embedded_postgres
from training.exporting import ExportOptions, export
from training.fine_tuning import FineTuneOptions, fine_tune, register
from training.tiny_model import build_tiny_model


@dataclass(frozen=True)
class LocalModelStep:
    samples: int
    version: str
    train_loss: float | None
    seconds: float


def train_and_activate(
    service_data_dir: Path,
    client: httpx.Client,
    admin_key: str,
    base: str | None,
    steps: int,
    full: bool = False,
    learning_rate: float | None = None,
) -> LocalModelStep:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="vdlocal"))
    url = start_embedded_postgres(service_data_dir, stop_on_exit=False)
    database = Database(url)
    try:
        settings = Settings(_env_file=None, DATABASE_URL=url, DATA_DIR=str(service_data_dir))
        # The form automatic retraining trains on (RETRAINING_GROUNDED): the prompt the
        # service sends, the answer among distractors or only distractors.
        exported = export(
            database,
            settings,
            ExportOptions(out_dir=work / "data", grounded=settings.retraining_grounded),
        )
        tiny = base is None
        model = base or str(
            build_tiny_model(work / "base", vocab_size=2000, hidden_size=128, layers=4)
        )
        options = FineTuneOptions(
            data=exported.path,
            model=model,
            output=work / "models",
            lora=not (tiny or full),  # a model trained from scratch needs all its weights
            max_steps=steps,
            batch_size=16 if tiny else 4,
            learning_rate=learning_rate or (2e-3 if tiny else 2e-4),
        )
        result = fine_tune(options)
        version_id = register(database, result, options)
    finally:
        database.dispose()
    response = client.post(
        f"/api/voice/models/{version_id}/activate",
        headers={"Authorization": f"Bearer {admin_key}"},
        timeout=600,
    )
    response.raise_for_status()
    return LocalModelStep(
        samples=exported.samples,
        version=result.version,
        train_loss=result.metrics.get("last_loss"),
        seconds=round(time.monotonic() - started, 1),
    )
