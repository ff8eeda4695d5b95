"""What a smaller paid-call context saves, and what it costs in quality.

    python -m benchmarks.context_budget [--n 600] [--seed 7] [--budgets 0,100,300] [--out DIR]

Runs the self-learning benchmark (the real service, the simulated paid model) once per
``CONTEXT_TOKEN_BUDGET`` value on the same stream, and tabulates prompt tokens per paid
call over a bare call (the service's instructions and the question only), the cost ratio
and the ratings. Writes ``DIR/context_budget.json`` and ``DIR/context_budget.md``.
"""

import argparse
import json
import os
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks import self_learning
from benchmarks.dataset import RESULTS_DIR

COLUMNS = (
    "prompt_tokens_per_paid_call",
    "prompt_tokens_ratio",
    "cost_ratio",
    "cost_ratio_last_window",
    "last_window_avg_rating",
    "no_paid_call_share",
    "probe_avg_rating",
)


def run(budget: int, n: int, seed: int, work: Path) -> dict:
    os.environ["CONTEXT_TOKEN_BUDGET"] = str(budget)  # the service process inherits it
    try:
        report = self_learning.main(
            ["--n", str(n), "--seed", str(seed), "--out", str(work / f"budget_{budget}")]
        )
    finally:
        os.environ.pop("CONTEXT_TOKEN_BUDGET", None)
    return {"budget": budget} | {key: report.get(key) for key in COLUMNS}


def render_markdown(rows: list[dict], n: int, seed: int) -> str:
    lines = [
        "# Paid-call context: tokens against quality",
        "",
        f"`python -m benchmarks.context_budget --n {n} --seed {seed}` — the self-learning "
        "benchmark once per `CONTEXT_TOKEN_BUDGET` (0: no budget), the same stream each time.",
        "",
        "| budget | prompt tokens / paid call | × a bare call | cost ratio | cost ratio, last "
        "window | last-window rating | no paid call, last window | probe rating |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        tokens = r["prompt_tokens_per_paid_call"]
        lines.append(
            f"| {r['budget']} | {tokens:.1f} | {r['prompt_tokens_ratio']} | {r['cost_ratio']} | "
            f"{r['cost_ratio_last_window']} | {r['last_window_avg_rating']} | "
            f"{r['no_paid_call_share']} | {r['probe_avg_rating']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--budgets", default="0,100,300")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="context_budget"))  # each run's own report
    rows = [run(int(b), args.n, args.seed, work) for b in args.budgets.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "context_budget.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    (args.out / "context_budget.md").write_text(
        render_markdown(rows, args.n, args.seed), encoding="utf-8"
    )
    table = Table(title="context budget")
    for column in ("budget", *COLUMNS):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(*(str(r[c]) for c in ("budget", *COLUMNS)))
    Console().print(table)


if __name__ == "__main__":
    main()
