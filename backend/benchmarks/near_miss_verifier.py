"""A verifier after the matcher: the wrong-vs-served curve of each one tried, with and
without a paid yes/no judge on its uncertain band.

    python -m benchmarks.near_miss_verifier [--splits 5] [--judge-error 0.05] [--out DIR]

Same splits and questions as ``benchmarks.near_miss`` (the look-alikes it tunes nothing on,
the unseen paraphrases), plus the holdout look-alikes (``near_miss_holdout.tsv``, written
before the verifier, reported apart). The matcher proposes with relaxed guards (no answer
relevance floor, margin 0.3, similarity 0.83); a verifier trained only on the split's own
approved phrasings (leave-one-out pairs: ``verifier_training.py``) scores each proposal.

Verifiers: ``cosine`` (the matcher's own figures), ``lemmas`` (coverage of the question's
lemmas by the answer's vocabulary, IDF of what is uncovered, new negations),
``lemmas+centroid`` and ``lemmas+words`` (word-level e5: each uncovered word against the
answer's mean question, or against its words, vs. rival classes'). The judge: proposals in
[low, high) go to a simulated paid judge that errs with ``--judge-error``; the cheapest band
that keeps wrong serves ≤ 2 % is reported with its judge calls per decision.
"""

import argparse
import json
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from app.embeddings.service import BundledE5Embedder
from app.embeddings.word_vectors import WordVectors
from app.verified_answers.logistic import LogisticModel
from app.verified_answers.matcher import SAME_QUESTION, FittedMatcher
from app.verified_answers.verifier import PROPOSING, Action, CacheVerifier, VerifierModel
from app.verified_answers.verifier_calibration import wilson_interval
from app.verified_answers.verifier_features import (
    FEATURE_NAMES,
    ClassWords,
    pair_features,
)
from app.verified_answers.verifier_training import leave_one_out_pairs, train_verifier
from benchmarks.dataset import DEFAULT_DATASET, RESULTS_DIR, load_intents, split_phrasings
from benchmarks.near_miss import (
    NEAR_MISS_FILE,
    Evaluation,
    load_near_misses,
    thresholds_as_shipped,
)

HOLDOUT_FILE = NEAR_MISS_FILE.parent / "near_miss_holdout.tsv"
TARGET = 0.02
#: The error rates the served verifier is calibrated to (``CACHE_MAX_ERROR_RATE``).
DELTAS = (0.01, 0.02, 0.05)
_F = {name: i for i, name in enumerate(FEATURE_NAMES)}
LEMMAS = ["uncovered_share", "foreign_weight", "unknown_words", "new_negation",
          "answer_text_coverage", "answer_relevance"]  # fmt: skip
WORDS = ["word_rival_pull", "word_own_closeness"]
VERIFIERS = {
    "cosine": (["nearest_phrasing", "classifier_margin", "answer_relevance"], "words"),
    "lemmas": (LEMMAS, "words"),
    "lemmas+centroid": (LEMMAS + WORDS, "centroid"),
    "lemmas+words": (LEMMAS + WORDS, "words"),
}


@dataclass(frozen=True)
class Scorer:
    """One verifier over one split's matcher: (group, kind, probability or None, right)."""

    matcher: FittedMatcher
    words: ClassWords
    model: LogisticModel
    cols: list[int]
    word_vectors: WordVectors

    def __call__(self, question, vector, right, group: str, kind: str) -> tuple:
        decision = self.matcher.decide(vector, question)
        if not decision.serve:
            return (group, kind, None, False)
        slot = self.matcher.slot_of(decision.candidate.key)
        scores = self.matcher.scores(vector)
        row = pair_features(question, vector, slot, scores, self.words, self.word_vectors)
        probability = float(self.model.probability(row[self.cols])[0])
        return (group, kind, probability, decision.candidate.key == right)


def decisions(evaluation: Evaluation, near, holdout_from: int, splits: int, word_vectors):
    """Per verifier: (group, kind, probability or None when nothing was proposed, right)."""
    shipped = thresholds_as_shipped()
    proposing = replace(shipped, **PROPOSING)
    out: dict[str, list] = {name: [] for name in VERIFIERS}
    for seed in range(splits):
        split = split_phrasings(evaluation.intents, seed)
        candidates = evaluation.candidates(split)
        matcher = FittedMatcher.fit(candidates, proposing)
        for name, (columns, level) in VERIFIERS.items():
            cols = [_F[c] for c in columns]
            pairs = leave_one_out_pairs(candidates, shipped, word_vectors, word_level=level)
            model = LogisticModel.fit(pairs.features[:, cols], pairs.labels)
            words = ClassWords(matcher, level)

            scorer = Scorer(matcher, words, model, cols, word_vectors)
            for asked in _decisions_of(evaluation, near, holdout_from, split):
                out[name].append(scorer(*asked))
    return out


def served_by_delta(evaluation, near, holdout_from, splits, word_vectors, judge_error) -> dict:
    """The verifier as the service runs it: trained by ``train_verifier`` on each split's
    approved phrasings for each δ, deciding through ``CacheVerifier.assess`` what the
    matcher proposes with ``PROPOSING``; the judge (right with 1 − ``judge_error``, drawn)
    on its band. Per δ: (group, kind, served, right, judged) per decision, and the seconds
    each training run took."""
    shipped = thresholds_as_shipped()
    runtime = CacheVerifier(word_vectors)
    rng = random.Random(7)
    rows: dict[float, list] = {delta: [] for delta in DELTAS}
    seconds: list[float] = []
    for seed in range(splits):
        split = split_phrasings(evaluation.intents, seed)
        candidates = evaluation.candidates(split)
        matcher = FittedMatcher.fit(candidates, shipped).deciding_with(**PROPOSING)
        for delta in DELTAS:
            started = time.perf_counter()
            trained = train_verifier(
                candidates, [], shipped, word_vectors, max_error_rate=delta, judge_error=judge_error
            )
            seconds.append(time.perf_counter() - started)
            for question, vector, right, group, kind in _decisions_of(
                evaluation, near, holdout_from, split
            ):
                decided = _served(runtime, trained.verifier, matcher, question, vector, right)
                rows[delta].append((group, kind, *_judged(decided, judge_error, rng)))
    return {"rows": rows, "training_seconds": seconds}


def _decisions_of(evaluation, near, holdout_from, split):
    """(question, vector, right answer, group, kind): the look-alikes, then the split's
    unseen paraphrases."""
    for i, (item, vector) in enumerate(zip(near, evaluation.near_vectors, strict=True)):
        group = "holdout" if i >= holdout_from else "look-alike"
        yield item.question, vector, item.answer_intent, group, item.kind
    for i, (item, (_, probe)) in enumerate(zip(evaluation.intents, split, strict=True)):
        for k in probe:
            yield (
                item.questions[k],
                evaluation.phrasing_vectors[i][k],
                item.intent,
                "unseen",
                "paraphrase",
            )


def _served(runtime: CacheVerifier, verifier: VerifierModel, matcher, question, vector, right):
    """(action, the proposal is right): SERVE, ASK_JUDGE or DECLINE (nothing proposed too)."""
    decision = matcher.decide(vector, question)
    if not decision.serve:
        return Action.DECLINE, False
    is_right = decision.candidate.key == right
    if decision.reason == SAME_QUESTION:
        return Action.SERVE, is_right
    assessment = runtime.assess(verifier, question, vector, matcher, decision.candidate)
    return assessment.action, is_right


def _judged(decided, judge_error: float, rng: random.Random) -> tuple:
    """(served alone, served with the judge, right, judged)."""
    action, right = decided
    if action != Action.ASK_JUDGE:
        served = action == Action.SERVE
        return served, served, right, False
    says_yes = right if rng.random() >= judge_error else not right
    return False, says_yes, right, True


def delta_summary(rows: list, delta: float) -> dict:
    """Wrong serves over every decision (look-alikes, holdout and unseen together) with its
    95 % interval, the share of unseen paraphrases served, look-alikes served wrongly."""
    out = {"delta": delta}
    for mode, index in (("alone", 2), ("with_judge", 3)):
        wrong = sum(1 for r in rows if r[index] and not r[4])
        unseen = [r for r in rows if r[0] == "unseen"]
        alike = [r for r in rows if r[0] == "look-alike"]
        holdout = [r for r in rows if r[0] == "holdout"]
        low, high = wilson_interval(wrong, len(rows))
        out[mode] = {
            "decisions": len(rows),
            "wrong_share": round(wrong / len(rows), 4),
            "wrong_interval": [round(low, 4), round(high, 4)],
            "unseen_served": round(sum(r[index] and r[4] for r in unseen) / len(unseen), 4),
            "look_alike_wrong": round(sum(r[index] and not r[4] for r in alike) / len(alike), 4),
            "holdout_wrong": round(sum(r[index] and not r[4] for r in holdout) / len(holdout), 4),
            "judge_calls_per_decision": round(sum(r[5] for r in rows) / len(rows), 4)
            if mode == "with_judge" else 0.0,
        }  # fmt: skip
    return out


def outcome(rows, low: float, high: float, judge_error: float) -> dict:
    """Expected wrong-serve and served shares per group when p ≥ high serves, low ≤ p < high
    asks the judge (right with 1 − error), below low goes to the model."""
    groups: dict[str, dict] = {}
    for group, _, p, right in rows:
        g = groups.setdefault(group, {"n": 0, "served": 0.0, "wrong": 0.0, "judged": 0})
        g["n"] += 1
        if p is None or p < low:
            continue
        if p >= high:
            g["served"] += 1
            g["wrong"] += not right
        else:
            g["judged"] += 1
            g["served"] += (1 - judge_error) if right else judge_error
            g["wrong"] += 0 if right else judge_error
    return {k: share_of(g) for k, g in groups.items()}


def share_of(group: dict) -> dict:
    return {key: round(group[counted] / group["n"], 4)
            for key, counted in (("wrong", "wrong"), ("served", "served"),
                                 ("judge_calls", "judged"))}  # fmt: skip


def curve(rows) -> list[dict]:
    return [{"threshold": round(t, 3)} | outcome(rows, t, t, 0.0) for t in np.linspace(0, 1, 201)]


def best_at(points: list[dict], target: float) -> dict | None:
    fine = [p for p in points if p["look-alike"]["wrong"] <= target]
    return max(fine, key=lambda p: p["unseen"]["served"]) if fine else None


def with_judge(rows, judge_error: float) -> dict | None:
    grid = np.linspace(0, 1, 41)
    points = [{"low": round(lo, 3), "high": round(hi, 3)} | outcome(rows, lo, hi, judge_error)
              for hi in grid for lo in grid if lo <= hi]  # fmt: skip
    return best_at(points, TARGET)


def by_kind(rows, threshold: float) -> dict:
    kinds: dict[str, list[int]] = {}
    for group, kind, p, right in rows:
        if group == "unseen":
            continue
        k = kinds.setdefault(f"{group}:{kind}", [0, 0])
        k[0] += 1
        k[1] += int(p is not None and p >= threshold and not right)
    return {k: {"decisions": n, "wrong": w} for k, (n, w) in sorted(kinds.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--judge-error", type=float, default=0.05)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()
    embedder = BundledE5Embedder()
    near = load_near_misses(NEAR_MISS_FILE)
    holdout = load_near_misses(HOLDOUT_FILE)
    evaluation = Evaluation(load_intents(args.dataset), near + holdout, embedder)
    word_vectors = WordVectors(embedder.embed_queries, capacity=200_000)
    results = decisions(evaluation, near + holdout, len(near), args.splits, word_vectors)
    report = {"splits": args.splits, "judge_error": args.judge_error, "verifiers": {}}
    served = served_by_delta(
        evaluation, near + holdout, len(near), args.splits, word_vectors, args.judge_error
    )
    report["served_by_delta"] = [delta_summary(served["rows"][d], d) for d in DELTAS]
    report["training_seconds_max"] = round(max(served["training_seconds"]), 2)
    for name, rows in results.items():
        points = curve(rows)
        best = best_at(points, TARGET)
        report["verifiers"][name] = {
            "alone_at_2pct": best,
            "with_judge_at_2pct": with_judge(rows, args.judge_error),
            "errors_by_kind_at_best": by_kind(rows, best["threshold"]) if best else None,
            "curve": points[::10],
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "near_miss_verifier.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2, default=lambda o: o.item()),
        encoding="utf-8",
    )
    (args.out / "near_miss_verifier.md").write_text(render(report), encoding="utf-8")
    print(render(report))


def render(report: dict) -> str:
    lines = [
        "# A verifier after the matcher (near-miss benchmark)",
        "",
        f"`python -m benchmarks.near_miss_verifier` — {report['splits']} splits; judge error "
        f"{report['judge_error']:.0%}. Served = unseen paraphrases answered from the cache; "
        "wrong = look-alikes served another topic's answer (holdout: the look-alikes written "
        "before the verifier).",
        "",
        "| verifier | alone: served at ≤ 2 % wrong | holdout wrong | with judge: served | "
        "holdout wrong | judge calls per unseen / look-alike |",
        "|---|---|---|---|---|---|",
    ]
    for name, v in report["verifiers"].items():
        a, j = v["alone_at_2pct"], v["with_judge_at_2pct"]
        alone = f"{a['unseen']['served']:.1%} | {a['holdout']['wrong']:.1%}" if a else "— | —"
        judged = (f"{j['unseen']['served']:.1%} | {j['holdout']['wrong']:.1%} | "
                  f"{j['unseen']['judge_calls']:.2f} / {j['look-alike']['judge_calls']:.2f}"
                  if j else "— | — | —")  # fmt: skip
        lines.append(f"| {name} | {alone} | {judged} |")
    lines += [
        "",
        "## The served verifier at the operator's δ (`CACHE_MAX_ERROR_RATE`)",
        "",
        "Trained by `train_verifier` on each split's approved phrasings (leave-one-out pairs, "
        "thresholds from out-of-fold probabilities, per answer), deciding through "
        "`CacheVerifier.assess` as the service does. Wrong = wrong serves over all decisions "
        "(look-alikes, holdout and unseen paraphrases together), with its 95 % interval. "
        f"Slowest training run: {report['training_seconds_max']} s.",
        "",
        "| δ | mode | wrong (95 % interval) | unseen served | look-alikes wrong | "
        "holdout wrong | judge calls per decision |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report["served_by_delta"]:
        for mode in ("alone", "with_judge"):
            m = row[mode]
            low, high = m["wrong_interval"]
            lines.append(
                f"| {row['delta']} | {mode.replace('_', ' ')} | {m['wrong_share']:.1%} "
                f"({low:.1%}–{high:.1%}) | {m['unseen_served']:.1%} | "
                f"{m['look_alike_wrong']:.1%} | {m['holdout_wrong']:.1%} | "
                f"{m['judge_calls_per_decision']:.2f} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
