"""The matcher at 1k, 10k and 100k verified questions: what a change costs, what a replica
holds, how fast it decides, and whether it still serves only right answers.

    python -m benchmarks.matcher_scale [--sizes 1000 10000 100000] [--changes 40] [--out DIR]

The 50 dev intents (8 approved phrasings each, seed 0, as in the near-miss benchmark) and
the shipped fact sheet are the real classes; the rest of each size is made of other
answers with five approved questions each. Their vectors are not random directions (those
would sit far from everything and change nothing): they are drawn from the Gaussian of the
real intents (centres and within-intent spread), so the filler stands among the real
questions as a company's other topics would.

For each size, in one process:

* **refit** — building the matcher from all its classes, what every replica did after every
  rating before updates (``MatcherBuilder(candidates)`` and a snapshot; the old code also
  built a classes×classes matrix on top, 400 MB at 20,000 classes);
* **update** — what a rating costs now: one answer's class replaced by itself with one more
  approved question, then a snapshot (median and p95 over ``--changes`` changes); the
  ratio refit / update is the speed-up, both measured in the same run;
* **memory** — the matcher's arrays per replica (vectors, sums, per-class columns), and
  everything its build holds on the Python heap, arrays included (tracemalloc);
* **decision p95** — ``decide`` on the 100 unseen dev phrasings and the 209 near-miss
  questions, the question's vector given (embedding is the same at any size);
* **precision** — of the unseen dev phrasings served, the share served their own intent's
  answer; and the near-miss questions served a wrong answer. Compared with the real
  classes alone (no filler).

Writes ``DIR/matcher_scale.json`` and ``DIR/matcher_scale.md``.
"""

import argparse
import json
import os
import statistics
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from app.embeddings.service import BundledE5Embedder
from app.verified_answers.matcher import Candidate, MatcherBuilder, candidate
from benchmarks.dataset import DEFAULT_DATASET, RESULTS_DIR, load_intents, split_phrasings
from benchmarks.near_miss import (
    NEAR_MISS_FILE,
    Evaluation,
    load_near_misses,
    thresholds_as_shipped,
)

FILLER_PHRASINGS = 5
DEFAULT_SIZES = (1_000, 10_000, 100_000)


def filler(rng: np.random.Generator, answers: list[Candidate], count: int) -> list[Candidate]:
    """``count`` other answers with FILLER_PHRASINGS approved questions each, drawn like
    the real ones: a centre from the Gaussian of the real intents' centres (a random
    combination of them, centred), questions around it with the real within-intent spread.
    They crowd the domain's region as a company's other topics would, no more."""
    centres = np.asarray([c.approved.mean(0) for c in answers])
    spreads = np.concatenate([c.approved - c.approved.mean(0) for c in answers])
    mean, deviations = centres.mean(0), centres - centres.mean(0)
    made = []
    for number in range(count):
        centre = mean + rng.normal(size=len(deviations)) @ deviations / np.sqrt(len(deviations))
        weights = rng.normal(size=(FILLER_PHRASINGS, len(spreads))) / np.sqrt(len(spreads))
        phrasings = _unit(centre + weights @ spreads)
        made.append(
            candidate(
                f"filler:{number}",
                f"Другой ответ номер {number}.",
                verified=True,
                answer_vector=_unit(centre),
                approved=phrasings,
            )
        )
    return made


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, np.float32)
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def questions_in(candidates: list[Candidate]) -> int:
    return sum(len(c.approved) for c in candidates)


def time_refit(candidates: list[Candidate], thresholds) -> tuple[float, MatcherBuilder]:
    started = time.perf_counter()
    builder = MatcherBuilder(candidates)
    builder.matcher(thresholds)
    return time.perf_counter() - started, builder


def time_updates(
    builder: MatcherBuilder, real: list[Candidate], rng, changes: int, thresholds
) -> list[float]:
    """One more approved question for a real answer, ``changes`` times."""
    seconds = []
    for _ in range(changes):
        chosen = real[int(rng.integers(len(real)))]
        current = builder.slots[builder.slot_of[chosen.key]]
        extra = _unit(
            current.approved[0] + 0.05 * _unit(rng.normal(size=current.approved.shape[1]))
        )
        grown = replace(
            current,
            approved=np.vstack([current.approved, extra[None, :]]),
            # the new question is worded like the first (its vector is a near copy)
            phrasing_stems=current.phrasing_stems + current.phrasing_stems[:1],
        )
        started = time.perf_counter()
        builder.change(removed=[], added=[grown])
        builder = builder.compacted()
        builder.matcher(thresholds)
        seconds.append(time.perf_counter() - started)
    return seconds


def heap_bytes(candidates: list[Candidate]) -> int:
    """Python heap a replica's matcher holds: arrays and the classes' objects."""
    tracemalloc.start()
    builder = MatcherBuilder(candidates)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del builder
    return held


def quality(matcher, evaluation: Evaluation, split, near_vectors) -> dict:
    latencies, served, right = [], 0, 0
    for i, (item, (_, probe)) in enumerate(zip(evaluation.intents, split, strict=True)):
        for k in probe:
            started = time.perf_counter()
            decision = matcher.decide(evaluation.phrasing_vectors[i][k], item.questions[k])
            latencies.append(time.perf_counter() - started)
            served += decision.serve
            right += decision.serve and decision.candidate.key == item.intent
    wrong_near = 0
    for item, vector in zip(evaluation.near, near_vectors, strict=True):
        started = time.perf_counter()
        decision = matcher.decide(vector, item.question)
        latencies.append(time.perf_counter() - started)
        wrong_near += decision.serve and decision.candidate.key != item.answer_intent
    probes = sum(len(p) for _, p in split)
    return {
        "probe_served_share": round(served / probes, 4),
        "probe_precision": round(right / served, 4) if served else None,
        "near_miss_wrong_share": round(wrong_near / len(evaluation.near), 4),
        "decision_p50_ms": round(1000 * statistics.median(latencies), 2),
        "decision_p95_ms": round(1000 * float(np.percentile(latencies, 95)), 2),
    }


def run_size(size: int, evaluation: Evaluation, split, changes: int, thresholds) -> dict:
    rng = np.random.default_rng(size)
    real = evaluation.candidates(split)
    answers = [c for c in real if c.verified]
    extra = max(0, (size - questions_in(real)) // FILLER_PHRASINGS)
    candidates = real + filler(rng, answers, extra)
    refit_s, builder = time_refit(candidates, thresholds)
    updates = time_updates(builder, answers, rng, changes, thresholds)
    matcher = builder.compacted().matcher(thresholds)
    update_p50 = statistics.median(updates)
    return {
        "verified_questions": questions_in(candidates),
        "classes": len(candidates),
        "refit_s": round(refit_s, 4),
        "update_p50_ms": round(1000 * update_p50, 2),
        "update_p95_ms": round(1000 * float(np.percentile(updates, 95)), 2),
        "refit_over_update": round(refit_s / update_p50, 1),
        "matcher_arrays_mb": round(builder.nbytes / 2**20, 1),
        "python_heap_mb": round(heap_bytes(candidates) / 2**20, 1),
        **quality(matcher, evaluation, split, evaluation.near_vectors),
    }


def render_markdown(report: dict) -> str:
    base = report["real_classes_only"]
    lines = [
        "# The matcher at scale",
        "",
        f"`python -m benchmarks.matcher_scale` — 50 dev intents (8 approved phrasings each, "
        f"{base['probe_questions']} unseen ones probed) and the fact sheet, filled up with "
        f"answers of {FILLER_PHRASINGS} questions each placed among the real questions; "
        f"{report['changes']} changes per size; one process, {report['cpu_count']} cores.",
        "",
        f"Real classes only: unseen phrasings served {base['probe_served_share']:.1%}, "
        f"precision {base['probe_precision']}, near-miss wrong serves "
        f"{base['near_miss_wrong_share']:.1%}.",
        "",
        "| verified questions | classes | refit | update p50 / p95 | refit ÷ update "
        "| arrays | heap | decision p50 / p95 | served | precision | near-miss wrong |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['verified_questions']:,} | {r['classes']:,} | {r['refit_s']:.2f} s | "
        f"{r['update_p50_ms']} / {r['update_p95_ms']} ms | {r['refit_over_update']}× | "
        f"{r['matcher_arrays_mb']} MB | {r['python_heap_mb']} MB | "
        f"{r['decision_p50_ms']} / {r['decision_p95_ms']} ms | {r['probe_served_share']:.1%} | "
        f"{r['probe_precision']} | {r['near_miss_wrong_share']:.1%} |"
        for r in report["sizes"]
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    thresholds = thresholds_as_shipped()
    intents = load_intents(DEFAULT_DATASET)
    evaluation = Evaluation(intents, load_near_misses(NEAR_MISS_FILE), BundledE5Embedder())
    split = split_phrasings(intents, 0)
    alone = evaluation.matcher(split, thresholds)
    report = {
        "changes": args.changes,
        "cpu_count": os.cpu_count(),
        "real_classes_only": {
            "probe_questions": sum(len(p) for _, p in split),
            **quality(alone, evaluation, split, evaluation.near_vectors),
        },
        "sizes": [],
    }
    console = Console()
    for size in args.sizes:
        console.print(f"[bold]{size:,} verified questions[/]")
        report["sizes"].append(run_size(size, evaluation, split, args.changes, thresholds))
        console.print(report["sizes"][-1])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "matcher_scale.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (args.out / "matcher_scale.md").write_text(render_markdown(report))
    table = Table(*report["sizes"][0].keys()) if report["sizes"] else None
    if table is not None:
        for row in report["sizes"]:
            table.add_row(*(str(v) for v in row.values()))
        console.print(table)
    return report


if __name__ == "__main__":
    main()
