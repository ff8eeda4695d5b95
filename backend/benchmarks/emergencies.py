"""Emergency detection: every emergency found, everyday questions with the same words left alone.

    python -m benchmarks.emergencies [--set PATH] [--dataset PATH] [--out DIR]

The set (``benchmarks/data/emergencies.tsv``) holds emergencies of every kind (gas, fire or
smoke, flooding, a person stuck in a lift, sparking wiring, someone hurt) and everyday
questions that share their words («пахнет краской», «лифт грязный», «течёт кран на кухне»).
Reported: emergencies detected as their kind (target 100 %), everyday questions taken for
an emergency (target ≤ 5 %), the same over the dev dataset's questions (everyday ones but
for burst pipes), and the detector's time per question. The patterns were written with this
set in view: a new set of wordings is the honest test (``--set``).

Writes ``DIR/emergencies.json`` and ``DIR/emergencies.md``.
"""

import argparse
import json
import time
from pathlib import Path

from app.core.paths import BACKEND_DIR
from app.emergencies.detector import kind_by_words
from benchmarks.dataset import DEFAULT_DATASET, RESULTS_DIR, display_path, load_intents

EMERGENCY_SET = BACKEND_DIR / "benchmarks" / "data" / "emergencies.tsv"


def load_set(path: Path) -> list[tuple[str | None, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    pairs = [line.split("\t") for line in lines if line and not line.startswith("#")]
    return [(None if kind == "-" else kind, question) for kind, question in pairs]


def evaluate(rows: list[tuple[str | None, str]], dev_questions: list[tuple[str, str]]) -> dict:
    started = time.perf_counter()
    found = [(kind, question, kind_by_words(question)) for kind, question in rows]
    per_question_ms = (time.perf_counter() - started) / max(len(rows), 1) * 1000
    emergencies = [r for r in found if r[0] is not None]
    everyday = [r for r in found if r[0] is None]
    missed = [{"kind": k, "question": q, "detected": d} for k, q, d in emergencies if d != k]
    false_alarms = [{"question": q, "detected": d} for k, q, d in everyday if d is not None]
    dev_flagged = [
        {"intent": intent, "question": q, "detected": kind_by_words(q)}
        for intent, q in dev_questions
        if kind_by_words(q) is not None
    ]
    return {
        "emergencies": len(emergencies),
        "detected_as_their_kind": round(1 - len(missed) / len(emergencies), 4),
        "everyday": len(everyday),
        "everyday_taken_for_emergency": round(len(false_alarms) / len(everyday), 4),
        "dev_questions": len(dev_questions),
        "dev_taken_for_emergency": len(dev_flagged),
        "ms_per_question": round(per_question_ms, 3),
        "missed": missed,
        "false_alarms": false_alarms,
        "dev_flagged": dev_flagged,
    }


def render_markdown(report: dict) -> str:
    lines = [
        "# Emergency detection",
        "",
        f"`python -m benchmarks.emergencies` — set `{report['set']}`, dev `{report['dataset']}`.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| emergencies detected as their kind ({report['emergencies']}) | "
        f"{report['detected_as_their_kind']:.1%} | 100 % |",
        f"| everyday questions taken for one ({report['everyday']}) | "
        f"{report['everyday_taken_for_emergency']:.1%} | ≤ 5 % |",
        f"| dev questions taken for one ({report['dev_questions']}) | "
        f"{report['dev_taken_for_emergency']} | burst pipes only |",
        f"| time per question | {report['ms_per_question']} ms | |",
    ]
    for title, key in (("Missed", "missed"), ("False alarms", "false_alarms"),
                       ("Dev questions read as emergencies", "dev_flagged")):  # fmt: skip
        if report[key]:
            lines += ["", f"## {title}", ""]
            lines += [f"- {json.dumps(row, ensure_ascii=False)}" for row in report[key]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=EMERGENCY_SET)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()
    dev = [(i.intent, q) for i in load_intents(args.dataset) for q in i.questions]
    report = {"set": display_path(args.set), "dataset": display_path(args.dataset)}
    report |= evaluate(load_set(args.set), dev)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "emergencies.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (args.out / "emergencies.md").write_text(render_markdown(report), encoding="utf-8")
    print(render_markdown(report))


if __name__ == "__main__":
    main()
