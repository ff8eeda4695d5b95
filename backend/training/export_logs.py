"""Export approved dialogs as validated training data.

    python -m training.export_logs --min-rating 4 --days-back 30 --max-samples 5000
    #   -> training/data/training_data_YYYYMMDD_HHMMSS.jsonl (+ .stats.json)

Dialogs rated at least ``--min-rating`` or corrected by an operator (the correction
replaces the answer) are read newest first, streamed from the database, cleaned (empty, too
short or too long, answers later refused, exact and near duplicates, more than
``--max-per-session`` rated dialogs of one conversation), scrubbed of personal data,
written in the chosen format, validated line by line, and recorded as a
``training_datasets`` row with the filters and statistics. The work is done by
``training.exporting``; this command adds the progress bar, the summary and the exit code.
"""

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from app.core.config import get_settings
from app.db.database import Database
from app.db.migrations import upgrade_to_head
from training.exporting import (
    DEFAULT_OUT,
    ExportOptions,
    ExportOptionsError,
    ExportResult,
    export,
)


def _print_summary(console: Console, result: ExportResult) -> None:
    stats = result.stats
    table = Table(title=f"training data export: {result.status}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("candidate dialogs", str(stats["candidates"]))
    table.add_row("training samples", str(result.samples))
    table.add_row("validation samples", str(result.validation_samples))
    table.add_row("preference pairs", str(result.pairs))
    for rating, count in stats["by_rating"].items():
        table.add_row(f"  rated {rating}" if rating != "corrected" else "  corrected", str(count))
    for rule, count in stats["removed"].items():
        table.add_row(f"  removed: {rule}", str(count))
    for name in ("question_chars", "answer_chars"):
        if stats[name]:
            d = stats[name]
            table.add_row(
                name, f"{d['min']} / {d['p50']} / {d['p95']} / {d['max']} (min/p50/p95/max)"
            )
    console.print(table)
    if result.path is not None:
        console.print(f"[green]{result.path}[/green]")
    for problem in stats["validation_problems"]:
        console.print(f"[red]{problem}[/red]")


def main(
    min_rating: int = typer.Option(
        None, min=1, max=5, help="Lowest rating exported; MIN_RATING_THRESHOLD by default"
    ),
    days_back: int = typer.Option(30, min=1, help="Only dialogs of the last N days"),
    max_samples: int = typer.Option(5000, min=1, help="At most this many samples, newest first"),
    out: Path = typer.Option(DEFAULT_OUT, help="Output folder"),
    format: str = typer.Option("chat", help="chat | prompt_completion"),
    include_corrections: bool = typer.Option(
        True, help="An operator's correction replaces the answer"
    ),
    split: float = typer.Option(0.0, min=0.0, max=0.5, help="Share written to a .val.jsonl file"),
    pairs: bool = typer.Option(False, help="Also write DPO preference pairs (.pairs.jsonl)"),
    max_per_session: int = typer.Option(
        None, min=1, help="Rated dialogs per conversation; EXPORT_MAX_PER_SESSION by default"
    ),
    grounded: bool = typer.Option(
        False, help="Samples in the service's prompt form: the answer among distractor answers"
    ),
    distractors: int = typer.Option(2, min=1, max=8, help="Distractor answers per sample"),
    no_answer_share: float = typer.Option(
        0.15, min=0.0, max=1.0, help="Share of grounded samples with only distractors"
    ),
) -> None:
    """Export approved dialogs as validated, PII-scrubbed training data."""
    settings = get_settings()
    options = ExportOptions(
        min_rating=min_rating or settings.min_rating_threshold,
        days_back=days_back,
        max_samples=max_samples,
        out_dir=out,
        format=format,
        include_corrections=include_corrections,
        split=split,
        pairs=pairs,
        max_per_session=max_per_session or settings.export_max_per_session,
        grounded=grounded,
        distractors=distractors,
        no_answer_share=no_answer_share,
    )
    console = Console()
    database = Database.from_settings(settings)
    try:
        upgrade_to_head(database.url)
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("exporting dialogs", total=None)

            def advance(seen: int, total: int) -> None:
                bar.update(task, completed=seen, total=total)

            result = export(database, settings, options, progress=advance)
    except ExportOptionsError as error:
        raise typer.BadParameter(str(error)) from error
    finally:
        database.dispose()
    _print_summary(console, result)
    if result.stats["validation_problems"]:
        raise typer.Exit(code=1)


if __name__ == "__main__":
    typer.run(main)
