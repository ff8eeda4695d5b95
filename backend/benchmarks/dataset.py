"""The dialog dataset format shared by the benchmarks (see ``datasets/README.md``)."""

import json
import random
from dataclasses import dataclass
from pathlib import Path

from app.core.paths import BACKEND_DIR

DEFAULT_DATASET = BACKEND_DIR / "datasets" / "dialogs_dev.jsonl"
RESULTS_DIR = BACKEND_DIR / "benchmarks" / "results"
PROBE_PHRASINGS_PER_INTENT = 2


@dataclass(frozen=True)
class Intent:
    intent: str
    topic: str
    reference_answer: str
    key_facts: tuple[str, ...]
    questions: tuple[str, ...]


def load_intents(path: Path) -> list[Intent]:
    intents = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        try:
            intents.append(
                Intent(
                    intent=row["intent"],
                    topic=row.get("topic", ""),
                    reference_answer=row["reference_answer"],
                    key_facts=tuple(row["key_facts"]),
                    questions=tuple(row["questions"]),
                )
            )
        except KeyError as missing:
            raise ValueError(f"{path}:{number}: missing field {missing}") from None
        if len(intents[-1].questions) <= PROBE_PHRASINGS_PER_INTENT:
            raise ValueError(f"{path}:{number}: needs more than 2 questions")
    if not intents:
        raise ValueError(f"{path}: no intents")
    return intents


def split_phrasings(intents: list[Intent], seed: int) -> list[tuple[list[int], list[int]]]:
    """For every intent, (stream phrasing indexes, probe phrasing indexes)."""
    rng = random.Random(seed)
    split = []
    for item in intents:
        indexes = list(range(len(item.questions)))
        probe = sorted(rng.sample(indexes, PROBE_PHRASINGS_PER_INTENT))
        split.append(([i for i in indexes if i not in probe], probe))
    return split


def display_path(path: Path) -> str:
    """Paths inside ``backend/`` are reported relative to it, so reports read the same
    on every machine."""
    resolved = path.resolve()
    return (
        str(resolved.relative_to(BACKEND_DIR))
        if resolved.is_relative_to(BACKEND_DIR)
        else str(path)
    )
