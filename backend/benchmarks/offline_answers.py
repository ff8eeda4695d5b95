"""The offline answer (no key, every model down): does it list only what answers?

    python -m benchmarks.offline_answers [--out DIR]

``benchmarks/data/offline_answers.tsv``: 50 questions the knowledge base answers (each
with a piece of the line that answers it) and 52 on topics it does not cover. The same
``OfflineAnswerer`` the service runs, fed as the service feeds it: *before*, the two
nearest facts above ``KNOWLEDGE_MIN_SIMILARITY``; *now*, the nearest lines kept only where
``FactRelevance`` finds the question's words covered. A covered question succeeds when a
listed line holds its fact; an uncovered one fails when any line is listed instead of
«не знаю — диспетчер».
"""

import argparse
import json
from pathlib import Path

import numpy as np

from app.core.config import Settings
from app.embeddings.service import BundledE5Embedder
from app.embeddings.word_vectors import WordVectors
from app.knowledge.relevance import MIN_COVERAGE, FactRelevance, KnowledgeLines, listed
from app.knowledge.service import read_facts
from app.llm.offline import NO_ANSWER_TEXT, OfflineAnswerer
from app.llm.prompt import KnowledgeSnippet, PromptContext
from benchmarks.dataset import RESULTS_DIR

DATA = Path(__file__).parent / "data" / "offline_answers.tsv"
#: The coverage thresholds the curve is measured at (``MIN_COVERAGE`` is the shipped one).
CURVE = (0.89, 0.9, 0.905, 0.91, 0.915, 0.92, 0.93)


def load(path: Path) -> list[tuple[str, str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines if line.strip() and not line.startswith("#")]


class InMemoryLines:
    """``KnowledgeLines.for_question`` over the fact file, without a database."""

    def __init__(self, facts, embedder, relevance: FactRelevance, floor: float) -> None:
        self.floor = floor
        self.passages = [f.passage for f in facts]
        self.contents = [f.content for f in facts]
        self.vectors = np.asarray(embedder.embed_passages(self.passages))
        self.embedder = embedder
        self.relevance = relevance

    def nearest(self, question: str, limit: int) -> list[tuple[int, float]]:
        similarity = self.vectors @ np.asarray(self.embedder.embed_queries([question])[0])
        return [(int(i), float(similarity[i])) for i in np.argsort(-similarity)[:limit]]

    def for_question(self, question: str) -> list[str]:
        found = self.nearest(question, KnowledgeLines.CANDIDATES)
        nearest = [(self.passages[i], self.contents[i], s) for i, s in found]
        return listed(question, nearest, self.passages, self.relevance, self.floor)


def evaluate(rows, answer) -> dict:
    covered = [(q, fact) for kind, q, fact in rows if kind == "covered"]
    uncovered = [q for kind, q, _ in rows if kind == "uncovered"]
    missed = [q for q, fact in covered if fact not in answer(q)]
    listed = [q for q in uncovered if answer(q) != NO_ANSWER_TEXT]
    return {
        "covered": len(covered),
        "covered_with_their_fact": round(1 - len(missed) / len(covered), 4),
        "uncovered": len(uncovered),
        "uncovered_listing_facts": round(len(listed) / len(uncovered), 4),
        "covered_missed": missed,
        "uncovered_listed": listed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()
    settings = Settings(_env_file=None)
    embedder = BundledE5Embedder()
    facts = read_facts(settings.knowledge_base_file)
    rows = load(DATA)
    floor = settings.knowledge_min_similarity
    words = WordVectors(embedder.embed_queries)
    lines = InMemoryLines(facts, embedder, FactRelevance(words), floor)
    before = OfflineAnswerer(knowledge_similarity=floor)
    now = OfflineAnswerer(knowledge_similarity=floor, lines_for=lines.for_question)

    def nearest_two(question: str) -> str:
        nearest = lines.nearest(question, settings.context_knowledge_entries)
        snippets = [KnowledgeSnippet("", lines.contents[i], s) for i, s in nearest]
        return before.answer(PromptContext(question, knowledge=snippets)).text

    report = {
        "before": evaluate(rows, nearest_two),
        "now": evaluate(rows, lambda q: now.answer(PromptContext(q)).text),
        "curve": {},
    }
    for coverage in CURVE:
        lines.relevance = FactRelevance(lines.relevance.word_vectors, coverage)
        figures = evaluate(rows, lambda q: now.answer(PromptContext(q)).text)
        report["curve"][str(coverage)] = {k: v for k, v in figures.items() if "_" in k[-6:]
                                          and not isinstance(v, list)}  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "offline_answers.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (args.out / "offline_answers.md").write_text(render(report), encoding="utf-8")
    print(render(report))


def render(report: dict) -> str:
    lines = [
        "# The offline answer lists only what answers",
        "",
        "`python -m benchmarks.offline_answers` — `benchmarks/data/offline_answers.tsv`: "
        "questions the knowledge base covers (success: a listed line holds the fact) and "
        "topics it does not (failure: facts listed instead of «не знаю — диспетчер»).",
        "",
        "| offline answer | covered: their fact listed | uncovered: facts listed anyway |",
        "|---|---|---|",
    ]
    for name, label in (("before", "nearest two facts ≥ KNOWLEDGE_MIN_SIMILARITY"),
                        ("now", "the same, only when a line covers it")):  # fmt: skip
        r = report[name]
        lines.append(f"| {label} | {r['covered_with_their_fact']:.0%} of {r['covered']} | "
                     f"{r['uncovered_listing_facts']:.0%} of {r['uncovered']} |")  # fmt: skip
    lines += [
        "",
        f"Shipped `MIN_COVERAGE` {MIN_COVERAGE}; the curve over it:",
        "",
        "| MIN_COVERAGE | covered: fact listed | uncovered: facts listed |",
        "|---|---|---|",
    ]
    for coverage, r in report["curve"].items():
        lines.append(f"| {coverage} | {r['covered_with_their_fact']:.0%} | "
                     f"{r['uncovered_listing_facts']:.0%} |")  # fmt: skip
    now = report["now"]
    lines += ["", "Still wrong now:", ""]
    lines += [f"- covered, fact not listed: «{q}»" for q in now["covered_missed"]]
    lines += [f"- uncovered, facts listed: «{q}»" for q in now["uncovered_listed"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
