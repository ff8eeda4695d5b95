"""Fine-tune a local causal LM on exported dialogs and register it as a model version.

    python -m training.fine_tune --data training/data/training_data_….jsonl \\
      --model microsoft/DialoGPT-medium --epochs 3 --batch-size 4 --learning-rate 5e-5
    #   -> models/fine_tuned/<version>/ (+ <version>/ctranslate2/, the int8 weights served)
    #      and models/fine_tuned/latest -> <version>

The training itself is ``training.fine_tuning``; this command reads the flags, reports
and registers the version as a ``candidate``.
"""

import logging
from pathlib import Path

import typer
from rich.console import Console

from app.core.config import get_settings
from app.db.database import Database
from app.db.migrations import upgrade_to_head
from app.model_versions.ctranslate2_conversion import convert_version
from training.base_models import BaseModelError
from training.fine_tuning import (
    DEFAULT_OUTPUT,
    FineTuneOptions,
    TrainingDataError,
    fine_tune,
    register,
)


def main(
    data: Path = typer.Option(..., exists=True, dir_okay=False, help="Exported JSONL"),
    model: str = typer.Option(
        ...,
        help="Hugging Face name, local directory, .gguf file, or a bundled name "
        "(python -m training.base_models --list)",
    ),
    epochs: float = typer.Option(3, min=0),
    batch_size: int = typer.Option(4, min=1),
    learning_rate: float = typer.Option(5e-5, min=0),
    output: Path = typer.Option(DEFAULT_OUTPUT, help="Versions go into subfolders"),
    lora: bool = typer.Option(True, help="LoRA adapter (PEFT) or full fine-tuning"),
    max_steps: int = typer.Option(-1, help="Stop after this many steps (-1: epochs decide)"),
    eval_data: Path | None = typer.Option(None, exists=True, dir_okay=False),
    seed: int = typer.Option(42),
    merge: bool = typer.Option(False, help="Also save the adapter merged into the model"),
    pairs: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="Preference pairs: DPO after SFT"
    ),
    ctranslate2: bool = typer.Option(
        True, help="Also convert it for the fast engine (LOCAL_INFERENCE_ENGINE=ctranslate2)"
    ),
    register_version: bool = typer.Option(
        True, "--register/--no-register", help="Record the version in the database"
    ),
) -> None:
    """Fine-tune a causal LM on exported dialogs; register the result as a candidate."""
    options = FineTuneOptions(
        data=data,
        model=model,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        output=output,
        lora=lora,
        max_steps=max_steps,
        eval_data=eval_data,
        seed=seed,
        merge=merge,
        pairs=pairs,
    )
    options.output.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        result = fine_tune(options)
    except BaseModelError as error:
        raise typer.BadParameter(str(error), param_hint="--model") from error
    except TrainingDataError as error:
        raise typer.BadParameter(str(error)) from error
    Console().print(f"[green]{result.version}[/green] written to {result.path}: {result.metrics}")
    if ctranslate2:
        manifest = convert_version(result.path)
        result.metrics["conversion_seconds"] = manifest["conversion_seconds"]
        typer.echo(f"converted for CTranslate2 in {manifest['conversion_seconds']} s")
    if register_version:
        database = Database.from_settings(get_settings())
        try:
            upgrade_to_head(database.url)
            result.model_version_id = register(database, result, options)
        finally:
            database.dispose()
        typer.echo(f"registered model version {result.model_version_id} ({result.version})")


if __name__ == "__main__":
    typer.run(main)
