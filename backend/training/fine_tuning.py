"""Fine-tune a local causal LM on exported dialogs and register it as a model version:
the library behind ``python -m training.fine_tune`` and the retraining worker.

Built on Transformers + TRL's SFTTrainer (its head applied to answer positions only:
``training/answer_loss.py``), with a PEFT LoRA adapter by default. Models with
a chat template (Llama/Qwen style) train on the conversation as the template renders it;
models without one (DialoGPT/GPT-2 style) train on the plain template the service also
generates with (``Инструкция: … / Жилец: … / Бот: …``), loss on the answer only. CPU by
default; a GPU, and bf16 where it supports it, when present.

Every run gets its own version directory with the weights (adapter, and ``merged/`` on
request), tokenizer, training arguments, metrics and a model card, and a row in
``model_versions`` with status ``candidate``; activating it is a separate, deliberate step.
"""

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.paths import BACKEND_DIR
from app.llm.prompt import render_plain
from training.answer_loss import answer_only_trainer_class
from training.base_models import resolve_base_model

if TYPE_CHECKING:
    from app.db.database import Database

logger = logging.getLogger(__name__)

DEFAULT_OUTPUT = BACKEND_DIR / "models" / "fine_tuned"
LATEST = "latest"


class TrainingDataError(ValueError):
    """The training file cannot be trained on; the CLI shows it as a bad parameter."""


@dataclass(frozen=True)
class FineTuneOptions:
    data: Path
    model: str
    epochs: float = 3
    batch_size: int = 4
    learning_rate: float = 5e-5
    output: Path = DEFAULT_OUTPUT
    lora: bool = True
    max_steps: int = -1
    eval_data: Path | None = None
    seed: int = 42
    merge: bool = False
    #: Preference pairs (export_logs --pairs): a DPO stage after SFT.
    pairs: Path | None = None
    lora_rank: int = 8
    max_length: int = 512


@dataclass
class FineTuneResult:
    version: str
    path: Path
    adapter: bool
    metrics: dict
    model_version_id: int | None = None


def load_samples(path: Path, chat_template: bool) -> list[dict]:
    """Exported lines as TRL examples: ``messages`` for chat-template models, otherwise
    ``prompt``/``completion`` rendered with the service's plain template."""
    samples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if "messages" in row:
            messages = row["messages"]
            if chat_template:
                samples.append({"messages": messages})
            else:
                *prompt, answer = messages
                samples.append(
                    {"prompt": render_plain(prompt), "completion": f" {answer['content']}"}
                )
        elif "prompt" in row and "completion" in row:
            samples.append({"prompt": row["prompt"], "completion": row["completion"]})
        else:
            raise TrainingDataError(f"{path}: a line is neither chat nor prompt/completion")
    if not samples:
        raise TrainingDataError(f"{path}: no training samples")
    return samples


def fine_tune(options: FineTuneOptions) -> FineTuneResult:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig

    started = time.monotonic()
    version = datetime.now().strftime("v%Y%m%d_%H%M%S")
    directory = options.output / version
    base = resolve_base_model(options.model)
    tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    has_template = bool(getattr(tokenizer, "chat_template", None))
    train, evaluation = _datasets(options, has_template)
    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    model = AutoModelForCausalLM.from_pretrained(
        base, torch_dtype=torch.bfloat16 if bf16 else torch.float32
    )
    config = SFTConfig(
        output_dir=str(directory),
        per_device_eval_batch_size=options.batch_size,
        eval_strategy="epoch" if evaluation is not None else "no",
        **_trainer_arguments(options, cuda, bf16),
    )
    trainer = answer_only_trainer_class()(
        model=model, args=config, train_dataset=train, eval_dataset=evaluation,
        processing_class=tokenizer, peft_config=_lora_config(options),
    )  # fmt: skip
    logger.info(
        "fine-tuning %s on %d samples (%s, %s)", options.model, len(train),
        "LoRA" if options.lora else "full", "GPU" if cuda else "CPU",
    )  # fmt: skip
    metrics = _train(trainer, len(train), evaluation, cuda)
    if options.pairs is not None:
        metrics |= _prefer(trainer.model, tokenizer, options, has_template, directory, bf16, cuda)
    metrics["duration_seconds"] = round(time.monotonic() - started, 2)
    _save(trainer, tokenizer, options, directory, metrics, version, has_template)
    logger.info("%s written to %s: %s", version, directory, metrics)
    return FineTuneResult(version, directory, options.lora, metrics)


def _datasets(options: FineTuneOptions, has_template: bool):
    from datasets import Dataset

    train = Dataset.from_list(load_samples(options.data, has_template))
    evaluation = (
        Dataset.from_list(load_samples(options.eval_data, has_template))
        if options.eval_data
        else None
    )
    return train, evaluation


def _lora_config(options: FineTuneOptions):
    """A PEFT LoRA adapter on every linear layer, or None for full fine-tuning."""
    if not options.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=options.lora_rank,
        lora_alpha=2 * options.lora_rank,
        lora_dropout=0.05,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )


def _train(trainer, samples: int, evaluation, cuda: bool) -> dict:
    """Train, then the figures the registry keeps: losses, steps, and on held-out data
    the evaluation loss and perplexity."""
    output = trainer.train()
    first_loss, last_loss = _loss_ends(trainer)
    metrics = {
        "train_loss": round(float(output.training_loss), 4),
        "first_loss": first_loss,
        "last_loss": last_loss,
        "steps": trainer.state.global_step,
        "samples": samples,
        "device": "cuda" if cuda else "cpu",
    }
    if evaluation is not None:
        eval_loss = float(trainer.evaluate()["eval_loss"])
        metrics |= {
            "eval_loss": round(eval_loss, 4),
            "perplexity": round(math.exp(min(eval_loss, 50)), 3),
            "eval_samples": len(evaluation),
        }
    return metrics


def _save(trainer, tokenizer, options, directory: Path, metrics, version, has_template) -> None:
    """Weights, tokenizer (and the merged model on request), run files, ``latest``."""
    trainer.save_model(str(directory))
    tokenizer.save_pretrained(str(directory))
    if options.lora and options.merge:
        merged = trainer.model.merge_and_unload()
        merged.save_pretrained(str(directory / "merged"))
        tokenizer.save_pretrained(str(directory / "merged"))
    _write_run_files(directory, options, metrics, version, has_template)
    _point_latest(options.output, version)


def load_pairs(path: Path, chat_template: bool) -> list[dict]:
    """Preference pairs as TRL's DPO examples, in the same prompt format as SFT."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if chat_template:
            pairs.append({k: row[k] for k in ("prompt", "chosen", "rejected")})
        else:
            pairs.append(
                {
                    "prompt": render_plain(row["prompt"]),
                    "chosen": f" {row['chosen'][-1]['content']}",
                    "rejected": f" {row['rejected'][-1]['content']}",
                }
            )
    if not pairs:
        raise TrainingDataError(f"{path}: no preference pairs")
    return pairs


def _prefer(model, tokenizer, options, has_template, directory, bf16, cuda) -> dict:
    """DPO on the preference pairs, starting from the SFT model (the reference is the SFT
    model itself: a frozen copy, or the adapter switched off under LoRA)."""
    from trl import DPOConfig, DPOTrainer

    from datasets import Dataset

    pairs = Dataset.from_list(load_pairs(options.pairs, has_template))
    config = DPOConfig(output_dir=str(directory / "dpo"), **_trainer_arguments(options, cuda, bf16))
    trainer = DPOTrainer(model=model, args=config, train_dataset=pairs, processing_class=tokenizer)
    output = trainer.train()
    first_loss, last_loss = _loss_ends(trainer)
    return {
        "dpo_pairs": len(pairs),
        "dpo_loss": round(float(output.training_loss), 4),
        "dpo_first_loss": first_loss,
        "dpo_last_loss": last_loss,
    }


def _trainer_arguments(options: FineTuneOptions, cuda: bool, bf16: bool) -> dict:
    """What the SFT and DPO stages share: schedule, device, logging, no checkpoints."""
    return {
        "num_train_epochs": options.epochs,
        "max_steps": options.max_steps,
        "per_device_train_batch_size": options.batch_size,
        "learning_rate": options.learning_rate,
        "seed": options.seed,
        "bf16": bf16,
        "use_cpu": not cuda,  # TRL refuses to start on a CPU without it
        # Recomputing activations saves GPU memory; on a CPU memory is plentiful and the
        # recomputation only costs a third more time per step.
        "gradient_checkpointing": cuda,
        "max_length": options.max_length,
        "logging_steps": 1,
        "save_strategy": "no",
        "report_to": [],
    }


def _loss_ends(trainer) -> tuple[float | None, float | None]:
    """The first and last logged training loss: did it go down?"""
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    if not losses:
        return None, None
    return round(float(losses[0]), 4), round(float(losses[-1]), 4)


def _write_run_files(directory, options, metrics, version, has_template) -> None:
    arguments = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}
    (directory / "training_args.json").write_text(json.dumps(arguments, indent=2))
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2))
    template = (
        "the model's chat template"
        if has_template
        else "the plain template `Инструкция: … / Жилец: … / Бот:` (app/llm/prompt.py)"
    )
    card = f"""# VasDom AudioBot local model {version}

Fine-tuned from `{options.model}` on `{options.data}` for the residents' assistant of a
company that cleans apartment-building entrances (Russian).

- Method: {"LoRA adapter (PEFT)" if options.lora else "full fine-tuning"}, TRL SFTTrainer
- Prompt format: {template}
- Epochs {options.epochs}, max steps {options.max_steps}, batch size {options.batch_size},
  learning rate {options.learning_rate}, seed {options.seed}

## Metrics

```json
{json.dumps(metrics, indent=2)}
```

Use: `USE_LOCAL_MODEL=true LOCAL_MODEL_PATH={directory}` or activate the registered version.
"""
    (directory / "README.md").write_text(card, encoding="utf-8")


def _point_latest(output: Path, version: str) -> None:
    """``latest`` -> the new version, swapped atomically (a reader never sees it missing)."""
    temporary = output / f".{LATEST}.tmp"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    os.symlink(version, temporary)
    os.replace(temporary, output / LATEST)


def register(database: "Database", result: FineTuneResult, options: FineTuneOptions) -> int:
    """Record the version as a candidate in ``model_versions``."""
    from sqlalchemy import select

    from app.db.models import ModelStatus, ModelVersion, TrainingDataset

    with database.transaction() as session:
        dataset_id = session.scalar(
            select(TrainingDataset.id)
            .where(TrainingDataset.path.in_([str(options.data), str(options.data.resolve())]))
            .order_by(TrainingDataset.id.desc())
        )
        row = ModelVersion(
            name=result.version,
            base_model=options.model,
            dataset_path=str(options.data),
            training_dataset_id=dataset_id,
            path=str(result.path),
            adapter=result.adapter,
            metrics=result.metrics,
            status=ModelStatus.CANDIDATE,
        )
        session.add(row)
        session.flush()
        return row.id
