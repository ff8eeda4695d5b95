"""The shared dev set as tests read it (benchmarks have their own reader; tests do not
import benchmark code)."""

import json

from app.core.paths import BACKEND_DIR

DEV_DIALOGS = BACKEND_DIR / "datasets" / "dialogs_dev.jsonl"
#: Intents whose questions ask for a person (or a dispatcher's phone): escalations by design.
ESCALATION_INTENTS = frozenset({"ask_operator", "dispatcher_phone"})


def dev_questions() -> list[tuple[str, str]]:
    """(intent, question) for every phrasing of every dev intent."""
    pairs = []
    for line in DEV_DIALOGS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            pairs.extend((row["intent"], question) for question in row["questions"])
    return pairs


def dev_answers() -> dict[str, str]:
    """Each dev intent's reference answer."""
    rows = (json.loads(line) for line in DEV_DIALOGS.read_text(encoding="utf-8").splitlines())
    return {row["intent"]: row["reference_answer"] for row in rows if row}
