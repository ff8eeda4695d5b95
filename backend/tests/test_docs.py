"""The README and docs/ stay true: the README reads in ten minutes, no relative link is dead,
every default a doc quotes is the one the code has, and every figure the README quotes is
the one its result file holds."""

import json
import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.core.config import Settings
from app.core.paths import BACKEND_DIR

ROOT = BACKEND_DIR.parent
README = ROOT / "README.md"
MAX_README_LINES = 450
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
#: A configuration row: `NAME` | `default` | meaning.
CONFIG_ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]+)` \| `([^`|]*)` \|", re.MULTILINE)


def documents() -> list[Path]:
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors_of(path: Path) -> set[str]:
    return {anchor(h) for h in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8")))}


def dead_links(path: Path) -> list[str]:
    dead = []
    for target in LINK.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:: not ours to check
        file_part, _, fragment = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.exists():
            dead.append(f"{path.name}: {target} (no such file)")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors_of(resolved):
            dead.append(f"{path.name}: {target} (no such heading)")
    return dead


def test_the_readme_is_a_guide_a_newcomer_reads_in_ten_minutes():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_README_LINES
    for section in ("## Two commands", "## Architecture", "## Documentation"):
        assert section in README.read_text(encoding="utf-8")


def test_no_relative_link_in_the_readme_or_docs_is_dead():
    assert [dead for path in documents() for dead in dead_links(path)] == []


def test_the_link_check_sees_a_dead_link_and_a_missing_heading(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](#title) [gone](missing.md) [nowhere](#no-such)\n")
    assert dead_links(page) == [
        "page.md: missing.md (no such file)",
        "page.md: #no-such (no such heading)",
    ]


def documented_default(value: object) -> str:
    """A default as the docs write it: booleans in lower case, secrets never."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, SecretStr):
        return "***"
    if isinstance(value, Path):  # written relative to backend/, where the service runs
        return (
            str(value.relative_to(BACKEND_DIR)) if value.is_relative_to(BACKEND_DIR) else str(value)
        )
    return str(value)


def settings_defaults() -> dict[str, str]:
    return {
        (field.alias or name).upper(): documented_default(field.default)
        for name, field in Settings.model_fields.items()
    }


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.name)
def test_every_default_a_doc_quotes_is_the_code_s(path):
    defaults = settings_defaults()
    quoted = CONFIG_ROW.findall(path.read_text(encoding="utf-8"))
    wrong = [
        f"{name}: docs say {value!r}, code has {defaults[name]!r}"
        for name, value in quoted
        if name in defaults and not same_number_or_text(value, defaults[name])
    ]
    assert wrong == []


def same_number_or_text(documented: str, actual: str) -> bool:
    try:
        return float(documented.replace(",", "").replace("_", "")) == float(actual)
    except ValueError:
        return documented == actual


def test_the_configuration_page_quotes_the_defaults_of_many_settings():
    """The check above has rows to compare (a table whose format drifted would pass empty)."""
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert len(CONFIG_ROW.findall(page)) >= 60


def readme_glance() -> dict[str, str]:
    section = README.read_text(encoding="utf-8").split("## Benchmarks at a glance")[1]
    section = section.split("\n## ")[0]
    return {
        cells[0]: cells[1]
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| What")
        if (cells := [c.strip() for c in line.strip("|").split("|")])
    }


def results(name: str) -> str:
    return (BACKEND_DIR / "benchmarks" / "results" / name).read_text(encoding="utf-8")


def test_the_readme_quotes_the_figures_its_result_files_hold():
    report = json.loads(results("self_learning/report.json"))
    glance = readme_glance()
    expected = {
        "Self-learning: rating, last 20 % of 2,000 questions ÷ the paid model alone": (
            f"{report['rating_lift']:.2f}"
        ),
        "Self-learning: answers with no paid call, last 20 %": (
            f"{report['no_paid_call_share']:.2f}"
        ),
        "Self-learning: cached answers that were another topic's": (
            f"{report['cache_false_hit_rate']:.3f}"
        ),
        "Self-learning: never-seen phrasings, rating ÷ the paid model alone": (
            f"{report['probe_rating_lift']:.2f}"
        ),
    }
    assert {label: glance.get(label) for label in expected} == expected
    load_p99 = next(k for k in glance if k.startswith("Load, 200 residents"))
    assert f"**{glance[load_p99]}**" in results("load.md").split("answered questions p50")[1]
    near_miss = next(k for k in glance if k.startswith("Look-alike"))
    assert f"= {glance[near_miss]}**" in results("near_miss.md")


def test_the_benchmarks_page_quotes_the_same_self_learning_figures():
    """The same quantity quoted in two places has one value."""
    report = json.loads(results("self_learning/report.json"))
    page = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    rows = {
        "rating lift, last window / baseline": f"**{report['rating_lift']:.2f}**",
        "answers with no paid call, last window": f"**{report['no_paid_call_share']:.2f}**",
        "cost ratio, whole stream / baseline": f"**{report['cost_ratio']:.2f}**",
    }
    for label, value in rows.items():
        row = next(line for line in page.splitlines() if line.startswith(f"| {label} |"))
        assert value in row, row
