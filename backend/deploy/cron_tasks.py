"""The seed's scheduled commands, run from ``backend/``:

    python -m deploy.cron_tasks evaluate_model      # weekly, Sun 2:00 via crontab
    python -m deploy.cron_tasks check_retraining    # monthly, 1st 3:00 via crontab
    python -m deploy.cron_tasks build_golden_set [--rebuild]

``evaluate_model`` measures the period (default ``EVALUATION_SCHEDULE_DAYS``), grades the
answering model on the golden set, writes a ``model_metrics`` row and prints a table (or JSON
with ``--json``). ``check_retraining`` applies the retraining thresholds and, when they are
crossed and enough new training data exists, queues a retraining run. Both raise a
``quality_drop`` alert when the thresholds are crossed. Exit status 0 unless they fail.
"""

import json
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from app.core.config import get_settings
from app.core.logging import configure_logging

if TYPE_CHECKING:
    from app.container import Services

app = typer.Typer(help="Scheduled evaluation and retraining", no_args_is_help=True)
console = Console()


def _services() -> "Services":
    from app.container import build_services

    settings = get_settings()
    configure_logging(settings)
    return build_services(settings)


def _table(title: str, rows: list[tuple[str, object]]) -> Table:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in rows:
        if isinstance(value, float):
            value = f"{value:.4g}"
        table.add_row(name, "—" if value is None else str(value))
    return table


@app.command("evaluate_model")
def evaluate_model(
    days: int | None = typer.Option(None, min=1, help="Period (default EVALUATION_SCHEDULE_DAYS)"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
    golden: bool = typer.Option(True, "--golden/--no-golden", help="Grade on the golden set"),
) -> None:
    """Measure the answering model over a period and on the golden set."""
    from app.alerts.service import alert_quality_drop

    services = _services()
    try:
        period = days or services.settings.evaluation_schedule_days
        evaluation = services.evaluator.evaluate(period, golden=golden)
        result = evaluation.as_dict() | {"period_days": period}
        if evaluation.empty:
            result["message"] = "nothing to evaluate: no interactions and no golden set"
        elif evaluation.decision.required:
            alert_quality_drop(services.alerts, evaluation.decision.reasons, result)
    finally:
        services.close()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    if evaluation.empty:
        console.print(f"[yellow]{result['message']}[/yellow]")
        return
    keys = [
        "model_version", "interactions", "rated", "avg_rating", "rating_coverage",
        "satisfaction", "negative_share", "avg_response_time", "p50_response_time",
        "p95_response_time", "cache_share", "local_share", "paid_share", "cost_usd",
        "cost_per_interaction", "search_accuracy", "implicit_satisfaction", "re_asked",
        "escalated", "thanked", "accuracy_score", "golden_set_size",
        "golden_set_built_at", "requires_retraining",
    ]  # fmt: skip
    console.print(_table(f"Evaluation, last {period} days", [(k, result.get(k)) for k in keys]))
    for line in [*evaluation.decision.reasons, *evaluation.notes]:
        console.print(f"• {line}")


@app.command("check_retraining")
def check_retraining(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
    enqueue: bool = typer.Option(True, "--enqueue/--no-enqueue", help="Queue a retraining run"),
) -> None:
    """Apply the retraining thresholds; queue a retraining run when they are crossed."""
    from app.retraining.service import check_and_queue

    services = _services()
    try:
        result = check_and_queue(
            services.database, services.settings, services.alerts, queue=enqueue
        )
    finally:
        services.close()
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    verdict = (
        "[red]retraining required[/red]"
        if result.decision.required
        else "[green]no retraining needed[/green]"
    )
    console.print(verdict)
    for line in [*result.decision.reasons, *result.notes]:
        console.print(f"• {line}")
    if result.run_created:
        console.print(f"queued retraining run {result.run_id}; python -m deploy.worker runs it")


@app.command("build_golden_set")
def build_golden_set(
    rebuild: bool = typer.Option(
        False, help="Draw a new set (old accuracy figures stop comparing)"
    ),
) -> None:
    """Draw the golden set now (evaluate_model draws it on first use)."""
    services = _services()
    try:
        golden = services.evaluator.golden_set
        with services.database.transaction() as session:
            size = golden.ensure(session, rebuild=rebuild)
    finally:
        services.close()
    if size:
        console.print(f"golden set: {size} held-out approved dialogs")
    else:
        needed = 5 * golden.min_items
        console.print(f"[yellow]no golden set: it needs {needed} approved questions[/yellow]")


if __name__ == "__main__":
    app()
