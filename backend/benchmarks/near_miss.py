"""Look-alike questions: does the matcher serve an answer to a question it does not answer?

    python -m benchmarks.near_miss [--dataset PATH] [--near-miss PATH] [--splits 5] [--out DIR]

The near-miss set (``benchmarks/data/near_miss.tsv``, 209 questions built from the dev
intents) holds questions that read like a dev intent's phrasings but ask something else:
a swapped object ("окна" for "полы"), place (квартира for подъезд), action ("застрял" for
"убирают"), a negation or complaint that changes what is asked, and out-of-domain questions
with the same words. Each names the dev intent whose answer *would* be right, or none.

For several random splits of each intent's phrasings into approved ones (8, verified as in
production after learning) and unseen ones (2), the matcher the service runs
(:class:`~app.verified_answers.matcher.FittedMatcher`, default thresholds, the shipped
knowledge base as extra classes) decides on every near-miss question and every unseen
phrasing. Reported: the share of near-miss questions served an answer that is not theirs
(target ≤ 2 %), by kind, with the questions; and on unseen paraphrases, the share served
(no paid call) and the precision of what was served.

Writes ``DIR/near_miss.json`` and ``DIR/near_miss.md``.
"""

import argparse
import csv
import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from app.container import match_thresholds
from app.core.config import Settings
from app.core.paths import BACKEND_DIR
from app.embeddings.service import BundledE5Embedder
from app.knowledge.service import read_facts
from app.verified_answers.matcher import Candidate, FittedMatcher, MatchThresholds, candidate
from benchmarks.dataset import (
    DEFAULT_DATASET,
    RESULTS_DIR,
    Intent,
    display_path,
    load_intents,
    split_phrasings,
)

NEAR_MISS_FILE = BACKEND_DIR / "benchmarks" / "data" / "near_miss.tsv"
KNOWLEDGE_FILE = BACKEND_DIR / "knowledge" / "company_facts.md"
TARGET_WRONG_SHARE = 0.02
#: CACHE_MIN_ANSWER_RELEVANCE values whose trade-off the report lists.
RELEVANCE_STEPS = (0.0, 0.84, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9)


@dataclass(frozen=True)
class NearMiss:
    question: str
    looks_like: str
    kind: str
    #: The dev intent whose answer is right for it; None: no dev answer is.
    answer_intent: str | None


def load_near_misses(path: Path) -> list[NearMiss]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.reader(
            (line for line in handle if not line.startswith("#")), delimiter="\t"
        ):
            if row:
                looks_like, kind, answer_intent, question = row
                rows.append(
                    NearMiss(
                        question, looks_like, kind, None if answer_intent == "-" else answer_intent
                    )
                )
    return rows


def thresholds_as_shipped() -> MatchThresholds:
    return match_thresholds(Settings(_env_file=None))


class Evaluation:
    """Everything embedded once; one matcher fitted per split."""

    def __init__(self, intents: list[Intent], near: list[NearMiss], embedder) -> None:
        self.intents = intents
        self.near = near
        self.phrasing_vectors = [
            np.asarray(embedder.embed_queries(list(i.questions))) for i in intents
        ]
        answers = [i.reference_answer for i in intents]
        self.answer_vectors = np.asarray(embedder.embed_queries(answers))
        self.answer_passages = np.asarray(embedder.embed_passages(answers))
        self.facts = read_facts(KNOWLEDGE_FILE)
        self.fact_vectors = np.asarray(embedder.embed_queries([f.content for f in self.facts]))
        self.near_vectors = np.asarray(embedder.embed_queries([n.question for n in near]))

    def matcher(self, split, thresholds: MatchThresholds) -> FittedMatcher:
        return FittedMatcher.fit(self.candidates(split), thresholds)

    def candidates(self, split) -> list[Candidate]:
        """The dev intents' answers (approved phrasings of this split) and the facts."""
        return [
            candidate(
                item.intent,
                item.reference_answer,
                verified=True,
                answer_vector=self.answer_vectors[i],
                answer_passage=self.answer_passages[i],
                approved=self.phrasing_vectors[i][approved],
                texts=[item.questions[k] for k in approved],
            )
            for i, (item, (approved, _)) in enumerate(zip(self.intents, split, strict=True))
        ] + [
            candidate(f"kb:{j}", fact.content, verified=False, answer_vector=self.fact_vectors[j])
            for j, fact in enumerate(self.facts)
        ]

    def run(self, splits: int, thresholds: MatchThresholds) -> dict:
        wrong: list[dict] = []
        per_kind: Counter[str] = Counter()
        wrong_kind: Counter[str] = Counter()
        probe_total = probe_served = probe_correct = 0
        for seed in range(splits):
            split = split_phrasings(self.intents, seed)
            matcher = self.matcher(split, thresholds)
            for item, vector in zip(self.near, self.near_vectors, strict=True):
                per_kind[item.kind] += 1
                decision = matcher.decide(vector, item.question)
                if decision.serve and decision.candidate.key != item.answer_intent:
                    wrong_kind[item.kind] += 1
                    wrong.append(
                        {
                            "split": seed,
                            "question": item.question,
                            "kind": item.kind,
                            "served": decision.candidate.key,
                            "reason": decision.reason,
                            "margin": decision.margin,
                        }
                    )
            for i, (item, (_, probe)) in enumerate(zip(self.intents, split, strict=True)):
                for k in probe:
                    decision = matcher.decide(self.phrasing_vectors[i][k], item.questions[k])
                    probe_total += 1
                    if decision.serve:
                        probe_served += 1
                        probe_correct += decision.candidate.key == item.intent
        decisions = sum(per_kind.values())
        return {
            "near_miss_questions": len(self.near),
            "decisions": decisions,
            "wrong_serves": len(wrong),
            "wrong_serve_share": round(len(wrong) / decisions, 4),
            "by_kind": {
                kind: {
                    "decisions": n,
                    "wrong": wrong_kind[kind],
                    "share": round(wrong_kind[kind] / n, 4),
                }
                for kind, n in sorted(per_kind.items())
            },
            "probe_paraphrases": probe_total,
            "probe_no_paid_share": round(probe_served / probe_total, 4),
            "probe_precision": round(probe_correct / probe_served, 4) if probe_served else None,
            "wrong": wrong,
        }


def tradeoff_row(row: dict) -> dict:
    """One line of the trade-off table from a run's figures (and the thresholds it ran with)."""
    return {"min_answer_relevance": row["thresholds"]["min_answer_relevance"]} | {
        key: row[key] for key in ("wrong_serve_share", "probe_no_paid_share", "probe_precision")
    }


def render_markdown(report: dict) -> str:
    lines = [
        "# Look-alike questions (near-miss benchmark)",
        "",
        f"`python -m benchmarks.near_miss` — {report['near_miss_questions']} near-miss questions "
        f"from `{report['near_miss_file']}`, dataset `{report['dataset']}`, {report['splits']} "
        "splits of 8 approved / 2 unseen phrasings per intent, the shipped matcher thresholds.",
        "",
        f"**Wrong serves: {report['wrong_serves']} of {report['decisions']} decisions = "
        f"{report['wrong_serve_share']:.1%}** (target ≤ {TARGET_WRONG_SHARE:.0%}).",
        "",
        f"Unseen paraphrases: {report['probe_no_paid_share']:.1%} served from cache (no paid "
        f"call), precision {report['probe_precision']}.",
        "",
        "| kind | decisions | wrong | share |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {kind} | {row['decisions']} | {row['wrong']} | {row['share']:.1%} |"
        for kind, row in report["by_kind"].items()
    ]
    lines += [
        "",
        "## The trade-off: CACHE_MIN_ANSWER_RELEVANCE",
        "",
        "| min answer relevance | wrong serves | unseen paraphrases served | precision |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['min_answer_relevance']} | {r['wrong_serve_share']:.1%} | "
        f"{r['probe_no_paid_share']:.1%} | {r['probe_precision']} |"
        for r in report["relevance_tradeoff"]
    ]
    if report["wrong"]:
        lines += [
            "",
            "## Wrong serves",
            "",
            "| split | question | served | margin |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {w['split']} | {w['question']} | {w['served']} | {w['margin']} |"
            for w in report["wrong"]
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--near-miss", type=Path, default=NEAR_MISS_FILE)
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()

    evaluation = Evaluation(
        load_intents(args.dataset), load_near_misses(args.near_miss), BundledE5Embedder()
    )
    thresholds = thresholds_as_shipped()
    report = {
        "dataset": display_path(args.dataset),
        "near_miss_file": display_path(args.near_miss),
        "splits": args.splits,
        "thresholds": thresholds.__dict__,
    } | evaluation.run(args.splits, thresholds)
    report["relevance_tradeoff"] = [
        # The shipped value's row is the report itself: no need to evaluate it twice.
        tradeoff_row(report)
        if value == thresholds.min_answer_relevance
        else tradeoff_row(
            evaluation.run(args.splits, replace(thresholds, min_answer_relevance=value))
            | {"thresholds": {"min_answer_relevance": value}}
        )
        for value in RELEVANCE_STEPS
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "near_miss.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (args.out / "near_miss.md").write_text(render_markdown(report), encoding="utf-8")
    table = Table(title="near-miss questions")
    for column in ("kind", "decisions", "wrong", "share"):
        table.add_column(column, justify="right")
    for kind, row in report["by_kind"].items():
        table.add_row(kind, str(row["decisions"]), str(row["wrong"]), f"{row['share']:.1%}")
    console = Console()
    console.print(table)
    console.print(
        f"wrong serves {report['wrong_serve_share']:.1%}; unseen paraphrases served "
        f"{report['probe_no_paid_share']:.1%} at precision {report['probe_precision']}"
    )


if __name__ == "__main__":
    main()
