"""Calibrate the verified-answer matcher on a dialog dataset.

    python -m benchmarks.calibrate_cache [--dataset PATH] [--splits 10] [--out DIR]

Two measurements, both with the bundled embedder:

1. **Pairs.** The cosine of every pair of questions, same intent vs different intents: the
   distributions overlap, which is why one threshold cannot serve answers safely. For a
   plain nearest-neighbour cache (serve the answer of the nearest verified question when its
   cosine is at least t) it reports precision and recall for each t, on unseen phrasings.
2. **Matcher.** For random splits of each intent's phrasings into verified and unseen
   ones (2 unseen per intent, as in the self-learning benchmark), the real
   :class:`~app.verified_answers.matcher.FittedMatcher` decides on every unseen phrasing;
   precision and coverage are reported for each margin threshold.

Writes ``DIR/cache_calibration.json`` and ``DIR/cache_calibration.md``.
"""

import argparse
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from app.core.paths import BACKEND_DIR
from app.embeddings.service import BundledE5Embedder
from app.knowledge.service import read_facts
from app.verified_answers.matcher import FittedMatcher, MatchThresholds, candidate
from benchmarks.dataset import (
    DEFAULT_DATASET,
    RESULTS_DIR,
    display_path,
    load_intents,
    split_phrasings,
)

KNOWLEDGE_FILE = BACKEND_DIR / "knowledge" / "company_facts.md"
THRESHOLDS = [0.80, 0.83, 0.85, 0.87, 0.89, 0.91, 0.93, 0.95, 0.97]
MARGINS = [0.0, 0.2, 0.3, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 1.0]


def pair_statistics(vectors: np.ndarray, intents: np.ndarray) -> dict:
    similarity = vectors @ vectors.T
    upper = np.triu_indices(len(vectors), k=1)
    same = intents[upper[0]] == intents[upper[1]]
    values = similarity[upper]

    def percentiles(x: np.ndarray) -> dict:
        return {f"p{p}": round(float(np.percentile(x, p)), 4) for p in (1, 5, 25, 50, 75, 95, 99)}

    return {
        "same_intent_pairs": int(same.sum()),
        "different_intent_pairs": int((~same).sum()),
        "same_intent": percentiles(values[same]) | {"min": round(float(values[same].min()), 4)},
        "different_intent": percentiles(values[~same])
        | {"max": round(float(values[~same].max()), 4)},
    }


def nearest_neighbour_curve(vectors, intents, splits) -> list[dict]:
    served = {t: [0, 0] for t in THRESHOLDS}  # threshold -> [served, correct]
    total = 0
    for verified, unseen in splits:
        similarity = vectors[unseen] @ vectors[verified].T
        nearest = similarity.argmax(1)
        best = similarity.max(1)
        correct = intents[verified][nearest] == intents[unseen]
        total += len(unseen)
        for t in THRESHOLDS:
            mask = best >= t
            served[t][0] += int(mask.sum())
            served[t][1] += int((mask & correct).sum())
    return [
        {
            "threshold": t,
            "coverage": round(n / total, 4),
            "precision": round(c / n, 4) if n else None,
            "recall": round(c / total, 4),
        }
        for t, (n, c) in served.items()
    ]


@dataclass(frozen=True)
class Embedded:
    """The dataset and the knowledge base, embedded once for every measurement."""

    questions: list[str]
    intents: np.ndarray
    vectors: np.ndarray
    answers: list[str]
    answer_vectors: np.ndarray
    facts: list
    fact_vectors: np.ndarray


def matcher_curve(data: Embedded, splits, *, wording_check: bool = True) -> list[dict]:
    vectors, intents, questions = data.vectors, data.intents, data.questions
    answers, answer_vectors = data.answers, data.answer_vectors
    facts, fact_vectors = data.facts, data.fact_vectors
    thresholds = MatchThresholds()
    decisions: list[tuple[float, float, bool]] = []  # (margin, nearest, correct)
    total = 0
    for verified, unseen in splits:
        candidates = [
            candidate(
                f"intent:{i}",
                answers[i],
                verified=True,
                answer_vector=answer_vectors[i],
                approved=vectors[verified][intents[verified] == i],
                texts=[questions[k] for k in verified if intents[k] == i],
            )
            for i in range(len(answer_vectors))
        ] + [
            candidate(f"kb:{j}", fact.content, verified=False, answer_vector=fact_vectors[j])
            for j, fact in enumerate(facts)
        ]
        matcher = FittedMatcher.fit(candidates, replace(thresholds, min_margin=0.0))
        for index in unseen:
            decision = matcher.decide(vectors[index], questions[index] if wording_check else None)
            total += 1
            if decision.serve:
                correct = decision.candidate.key == f"intent:{intents[index]}"
                margin = decision.margin if decision.margin is not None else float("inf")
                decisions.append((margin, correct))
    rows = []
    for m in MARGINS:
        kept = [correct for margin, correct in decisions if margin >= m]
        rows.append(
            {
                "min_margin": m,
                "coverage": round(len(kept) / total, 4),
                "precision": round(sum(kept) / len(kept), 4) if kept else None,
                "recall": round(sum(kept) / total, 4),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()

    intents_data = load_intents(args.dataset)
    embedder = BundledE5Embedder()
    questions = [q for item in intents_data for q in item.questions]
    intents = np.array([i for i, item in enumerate(intents_data) for _ in item.questions])
    vectors = np.asarray(embedder.embed_queries(questions))
    answers = [x.reference_answer for x in intents_data]
    answer_vectors = np.asarray(embedder.embed_queries(answers))
    facts = read_facts(KNOWLEDGE_FILE)
    fact_vectors = np.asarray(embedder.embed_queries([f.content for f in facts]))
    data = Embedded(questions, intents, vectors, answers, answer_vectors, facts, fact_vectors)
    splits = [split_phrasings(intents_data, seed) for seed in range(args.splits)]
    index_splits = []
    offsets = np.cumsum([0] + [len(x.questions) for x in intents_data])
    for split in splits:
        verified = [offsets[i] + j for i, (s, _) in enumerate(split) for j in s]
        unseen = [offsets[i] + j for i, (_, p) in enumerate(split) for j in p]
        index_splits.append((np.array(verified), np.array(unseen)))

    report = {
        "dataset": display_path(args.dataset),
        "intents": len(intents_data),
        "questions": len(questions),
        "splits": args.splits,
        "defaults": MatchThresholds().__dict__,
        "pairs": pair_statistics(vectors, intents),
        "nearest_neighbour": nearest_neighbour_curve(vectors, intents, index_splits),
        "matcher": matcher_curve(data, index_splits),
        "matcher_without_wording_check": matcher_curve(data, index_splits, wording_check=False),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cache_calibration.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (args.out / "cache_calibration.md").write_text(render_markdown(report), encoding="utf-8")
    print_tables(report)


def render_markdown(report: dict) -> str:
    pairs = report["pairs"]
    lines = [
        "# Verified-answer matcher calibration",
        "",
        f"Dataset `{Path(report['dataset']).name}`: {report['intents']} intents, "
        f"{report['questions']} questions; {report['splits']} random splits of 2 unseen "
        "phrasings per intent.",
        "",
        "## Cosine of question pairs (bundled multilingual-e5-small)",
        "",
        "| pairs | n | p1 | p5 | p25 | p50 | p75 | p95 | p99 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, key in (("same intent", "same_intent"), ("different intents", "different_intent")):
        p = pairs[key]
        n = pairs[f"{key}_pairs"]
        lines.append(
            f"| {name} | {n} | "
            + " | ".join(str(p[f"p{q}"]) for q in (1, 5, 25, 50, 75, 95, 99))
            + " |"
        )
    lines += [
        "",
        f"Highest different-intent pair: {pairs['different_intent']['max']}; lowest "
        f"same-intent pair: {pairs['same_intent']['min']}.",
        "",
        "## Plain nearest-neighbour cache on unseen phrasings",
        "",
        "| threshold | coverage | precision | recall |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['threshold']} | {r['coverage']} | {r['precision']} | {r['recall']} |"
        for r in report["nearest_neighbour"]
    ]
    for key, title in (
        ("matcher", "Matcher as served (ridge classifier, knowledge facts, wording check)"),
        ("matcher_without_wording_check", "Matcher without the wording check"),
    ):
        lines += [
            "",
            f"## {title}",
            "",
            "| min margin | coverage | precision | recall |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {r['min_margin']} | {r['coverage']} | {r['precision']} | {r['recall']} |"
            for r in report[key]
        ]
    return "\n".join(lines) + "\n"


def print_tables(report: dict) -> None:
    console = Console()
    for title, key, first in (
        ("nearest neighbour", "nearest_neighbour", "threshold"),
        ("matcher", "matcher", "min_margin"),
    ):
        table = Table(title=title)
        for column in (first, "coverage", "precision", "recall"):
            table.add_column(column, justify="right")
        for row in report[key]:
            table.add_row(*(str(row[c]) for c in (first, "coverage", "precision", "recall")))
        console.print(table)
    console.print(report["pairs"])


if __name__ == "__main__":
    main()
