"""Export approved dialogs as validated training data.

    python -m training.export_logs --min-rating 4 --days-back 30 --max-samples 5000
    #   -> training/data/training_data_YYYYMMDD_HHMMSS.jsonl (+ .stats.json)

Dialogs rated at least ``--min-rating`` or corrected by an operator (the correction
replaces the answer) are read newest first, streamed from the database, cleaned (empty, too
short or too long, answers later refused, exact and near duplicates, more than
``--max-per-session`` rated dialogs of one conversation), scrubbed of personal data,
written in the chosen format, validated line by line, and recorded as a
``training_datasets`` row with the filters and statistics.
"""

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import and_, func, or_, select

from app.answering.prompt import SYSTEM_PROMPT, render_plain
from app.core.config import Settings, get_settings
from app.core.pii import PiiScrubber, public_strings
from app.db.database import Database
from app.db.models import (
    GoldenSetItem,
    KnowledgeEntry,
    TrainingDataset,
    VoiceEmbedding,
    VoiceLog,
)
from app.quality.golden_set import normalise_question
from app.verified_answers.service import text_key, withdrawn_texts
from training.dataset_format import FORMATS, validate_file

TRAINING_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = TRAINING_DIR / "data"
#: Two questions this close with the same answer are one training example.
NEAR_DUPLICATE_SIMILARITY = 0.97
#: Approved answers for questions this close make a preference pair with a refused one.
PAIR_SIMILARITY = 0.9
STREAM_BATCH = 1000


@dataclass(frozen=True)
class ExportOptions:
    min_rating: int = 4
    days_back: int = 30
    max_samples: int = 5000
    out_dir: Path = DEFAULT_OUT
    format: str = "chat"
    include_corrections: bool = True
    split: float = 0.0
    pairs: bool = False
    min_chars: int = 3
    max_chars: int = 2000
    seed: int = 13
    #: Rated dialogs one conversation may contribute: no single resident (or script
    #: posing as one) moves the training data by itself. Corrections are not capped.
    max_per_session: int = 3


@dataclass
class ExportResult:
    path: Path | None
    samples: int
    validation_path: Path | None = None
    validation_samples: int = 0
    pairs_path: Path | None = None
    pairs: int = 0
    dataset_id: int | None = None
    stats: dict = field(default_factory=dict)


@dataclass
class _Example:
    log_id: str
    session_id: str
    question: str
    answer: str
    rating: int | None
    corrected: bool
    created_at: datetime


class _Cleaner:
    """Applies the cleaning rules in order and counts what each one removed."""

    def __init__(
        self, options: ExportOptions, refused_answers: set[str], held_out: set[str] = frozenset()
    ) -> None:
        self.options = options
        self.refused = refused_answers
        #: Golden-set questions (normalised): graded on, so never trained on.
        self.held_out = held_out
        self.removed: Counter[str] = Counter()
        self._per_session: Counter[str] = Counter()
        self._seen_pairs: set[tuple[str, str]] = set()
        self._kept_vectors: dict[str, list[np.ndarray]] = {}

    def keep(self, example: _Example, vector: np.ndarray | None) -> bool:
        rule = self._rejecting_rule(example, vector)
        if rule is not None:
            self.removed[rule] += 1
            return False
        return True

    def _rejecting_rule(self, example: _Example, vector: np.ndarray | None) -> str | None:
        options = self.options
        if normalise_question(example.question) in self.held_out:
            return "golden_set"
        if not example.answer.strip():
            return "empty_answer"
        if min(len(example.question), len(example.answer)) < options.min_chars:
            return "too_short"
        if max(len(example.question), len(example.answer)) > options.max_chars:
            return "too_long"
        if not example.corrected and example.answer in self.refused:
            return "answer_refused_later"
        answer_key = text_key(example.answer)
        pair_key = (text_key(example.question), answer_key)
        if pair_key in self._seen_pairs:
            return "exact_duplicate"
        if vector is not None:
            kept = self._kept_vectors.setdefault(answer_key, [])
            if kept and float(np.max(np.asarray(kept) @ vector)) >= NEAR_DUPLICATE_SIMILARITY:
                return "near_duplicate"
            kept.append(vector)
        if not example.corrected:
            if self._per_session[example.session_id] >= options.max_per_session:
                return "session_cap"
            self._per_session[example.session_id] += 1
        self._seen_pairs.add(pair_key)
        return None


def export(database: Database, settings: Settings, options: ExportOptions) -> ExportResult:
    console = Console()
    if options.format not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    cutoff = datetime.now(UTC) - timedelta(days=options.days_back)
    approved = [VoiceLog.rating >= options.min_rating]
    if options.include_corrections:
        approved.append(VoiceLog.corrected_response.is_not(None))
    where = and_(VoiceLog.created_at >= cutoff, or_(*approved))

    with database.session() as session:
        facts = session.scalars(select(KnowledgeEntry.content)).all()
        scrubber = PiiScrubber(keep=public_strings(list(facts)))
        candidates = session.scalar(select(func.count()).select_from(VoiceLog).where(where)) or 0
        refused = _refused_answers(session)
        held_out = set(session.scalars(select(GoldenSetItem.question_key)))

    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    options.out_dir.mkdir(parents=True, exist_ok=True)
    path = options.out_dir / f"training_data_{stamp}.jsonl"
    validation_path = options.out_dir / f"training_data_{stamp}.val.jsonl"
    cleaner = _Cleaner(options, refused, held_out)
    split_rng = random.Random(options.seed)
    ratings: Counter[str] = Counter()
    question_lengths: list[int] = []
    answer_lengths: list[int] = []
    written = validation = 0
    with (
        path.open("w", encoding="utf-8") as train_file,
        validation_path.open("w", encoding="utf-8") as val_file,
        Progress(console=console, transient=True) as progress,
    ):
        task = progress.add_task("exporting dialogs", total=candidates)
        seen = 0
        for example, vector in _stream(database, settings, where, options.include_corrections):
            if written + validation >= options.max_samples:
                break  # newest first: everything older is over the limit
            seen += 1
            progress.advance(task)
            if not cleaner.keep(example, vector):
                continue
            question = scrubber.scrub(example.question)
            answer = scrubber.scrub(example.answer)
            line = json.dumps(
                _sample(options.format, example, question, answer), ensure_ascii=False
            )
            if options.split > 0 and split_rng.random() < options.split:
                val_file.write(line + "\n")
                validation += 1
            else:
                train_file.write(line + "\n")
                written += 1
            ratings["corrected" if example.corrected else str(example.rating)] += 1
            question_lengths.append(len(question))
            answer_lengths.append(len(answer))
    if candidates > seen:
        cleaner.removed["over_max_samples"] = candidates - seen
    if validation == 0:
        validation_path.unlink()

    problems = validate_file(path, options.format)
    if validation:
        problems += validate_file(validation_path, options.format)
    result = ExportResult(
        path=path,
        samples=written,
        validation_path=validation_path if validation else None,
        validation_samples=validation,
    )
    if options.pairs:
        result.pairs_path, result.pairs = _write_pairs(
            database,
            settings,
            options,
            scrubber,
            path.with_suffix(".pairs.jsonl"),
            cutoff,
            held_out,
        )
        problems += validate_file(result.pairs_path, "pairs")
    result.stats = {
        "candidates": candidates,
        "samples": written,
        "validation_samples": validation,
        "preference_pairs": result.pairs,
        "by_rating": dict(sorted(ratings.items())),
        "removed": dict(sorted(cleaner.removed.items())),
        "question_chars": _distribution(question_lengths),
        "answer_chars": _distribution(answer_lengths),
        "validation_problems": problems[:20],
    }
    path.with_suffix(".stats.json").write_text(
        json.dumps(result.stats, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    status = "invalid" if problems else ("ready" if written + validation else "empty")
    with database.session() as session:
        row = TrainingDataset(
            dataset_name=path.stem,
            path=str(path),
            total_samples=written + validation,
            filters=_filters(options),
            stats=result.stats,
            status=status,
        )
        session.add(row)
        session.commit()
        result.dataset_id = row.id
    _print_summary(console, result, status)
    return result


def _stream(database: Database, settings: Settings, where, include_corrections: bool):
    """Rows newest first, in batches from a server-side cursor: memory stays flat."""
    query = (
        select(
            VoiceLog.id,
            VoiceLog.session_id,
            VoiceLog.user_message,
            VoiceLog.ai_response,
            VoiceLog.corrected_response,
            VoiceLog.rating,
            VoiceLog.created_at,
            VoiceEmbedding.embedding,
        )
        .outerjoin(
            VoiceEmbedding,
            and_(
                VoiceEmbedding.log_id == VoiceLog.id,
                VoiceEmbedding.embedding_model == settings.embedding_model,
            ),
        )
        .where(where)
        .order_by(VoiceLog.created_at.desc(), VoiceLog.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    with database.session() as session:
        for row in session.execute(query):
            corrected = include_corrections and row.corrected_response is not None
            example = _Example(
                log_id=str(row.id),
                session_id=row.session_id,
                question=row.user_message,
                answer=row.corrected_response if corrected else row.ai_response,
                rating=row.rating,
                corrected=corrected,
                created_at=row.created_at,
            )
            vector = None if row.embedding is None else np.asarray(row.embedding, np.float32)
            yield example, vector


def _refused_answers(session) -> set[str]:
    """Answer texts that were withdrawn as verified answers: refused by a later rating."""
    from app.db.models import VerifiedAnswer

    texts = session.scalars(
        select(VerifiedAnswer.answer_text).where(VerifiedAnswer.withdrawn_at.is_not(None))
    ).all()
    return withdrawn_texts(session, list(texts))


def _sample(kind: str, example: _Example, question: str, answer: str) -> dict:
    meta = {
        "log_id": example.log_id,
        "rating": example.rating,
        "corrected": example.corrected,
        "created_at": example.created_at.isoformat(),
    }
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": question},
    ]
    if kind == "prompt_completion":
        return {"prompt": render_plain(messages), "completion": f" {answer}", "meta": meta}
    return {"messages": [*messages, {"role": "assistant", "content": answer}], "meta": meta}


def _write_pairs(
    database, settings, options, scrubber, path: Path, cutoff, held_out: set[str]
) -> tuple[Path, int]:
    """A corrected answer against the answer it replaced; and an approved answer against a
    refused one given to a near-identical question. Golden-set questions are left out."""
    count = 0
    with database.session() as session, path.open("w", encoding="utf-8") as out:
        corrected = session.execute(
            select(
                VoiceLog.id,
                VoiceLog.user_message,
                VoiceLog.ai_response,
                VoiceLog.corrected_response,
            )
            .where(VoiceLog.created_at >= cutoff, VoiceLog.corrected_response.is_not(None))
            .order_by(VoiceLog.created_at.desc())
            .limit(options.max_samples)
        ).all()
        for log_id, question, original, correction in corrected:
            if normalise_question(question) in held_out:
                continue
            if text_key(original) != text_key(correction):
                out.write(_pair_line(scrubber, question, correction, original, str(log_id)))
                count += 1
        low = session.execute(
            select(
                VoiceLog.id, VoiceLog.user_message, VoiceLog.ai_response, VoiceEmbedding.embedding
            )
            .join(VoiceEmbedding, VoiceEmbedding.log_id == VoiceLog.id)
            .where(
                VoiceLog.created_at >= cutoff,
                VoiceLog.rating <= 2,
                VoiceLog.corrected_response.is_(None),
                VoiceEmbedding.embedding_model == settings.embedding_model,
            )
            .limit(options.max_samples)
        ).all()
        for log_id, question, refused, vector in low:
            if normalise_question(question) in held_out:
                continue
            distance = VoiceEmbedding.embedding.cosine_distance(vector)
            better = session.execute(
                select(VoiceLog.corrected_response, VoiceLog.ai_response, VoiceLog.rating)
                .join(VoiceEmbedding, VoiceEmbedding.log_id == VoiceLog.id)
                .where(
                    VoiceEmbedding.embedding_model == settings.embedding_model,
                    VoiceLog.id != log_id,
                    VoiceLog.id.not_in(
                        select(GoldenSetItem.source_log_id).where(
                            GoldenSetItem.source_log_id.is_not(None)
                        )
                    ),
                    or_(
                        VoiceLog.corrected_response.is_not(None),
                        VoiceLog.rating >= options.min_rating,
                    ),
                    1 - distance >= PAIR_SIMILARITY,
                )
                .order_by(distance)
                .limit(1)
            ).first()
            if better is not None:
                chosen = better.corrected_response or better.ai_response
                if text_key(chosen) != text_key(refused):
                    out.write(_pair_line(scrubber, question, chosen, refused, str(log_id)))
                    count += 1
    return path, count


def _pair_line(scrubber: PiiScrubber, question: str, chosen: str, rejected: str, log_id: str):
    pair = {
        "prompt": [{"role": "user", "content": scrubber.scrub(question)}],
        "chosen": [{"role": "assistant", "content": scrubber.scrub(chosen)}],
        "rejected": [{"role": "assistant", "content": scrubber.scrub(rejected)}],
        "meta": {"log_id": log_id},
    }
    return json.dumps(pair, ensure_ascii=False) + "\n"


def _distribution(values: list[int]) -> dict:
    if not values:
        return {}
    array = np.asarray(values)
    return {
        "min": int(array.min()),
        "p50": int(np.percentile(array, 50)),
        "p95": int(np.percentile(array, 95)),
        "max": int(array.max()),
    }


def _filters(options: ExportOptions) -> dict:
    return {
        "min_rating": options.min_rating,
        "days_back": options.days_back,
        "max_samples": options.max_samples,
        "format": options.format,
        "include_corrections": options.include_corrections,
        "split": options.split,
        "pairs": options.pairs,
        "min_chars": options.min_chars,
        "max_chars": options.max_chars,
        "max_per_session": options.max_per_session,
    }


def _print_summary(console: Console, result: ExportResult, status: str) -> None:
    stats = result.stats
    table = Table(title=f"training data export: {status}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("candidate dialogs", str(stats["candidates"]))
    table.add_row("training samples", str(result.samples))
    table.add_row("validation samples", str(result.validation_samples))
    table.add_row("preference pairs", str(result.pairs))
    for rating, count in stats["by_rating"].items():
        table.add_row(f"  rated {rating}" if rating != "corrected" else "  corrected", str(count))
    for rule, count in stats["removed"].items():
        table.add_row(f"  removed: {rule}", str(count))
    for name in ("question_chars", "answer_chars"):
        if stats[name]:
            d = stats[name]
            table.add_row(
                name, f"{d['min']} / {d['p50']} / {d['p95']} / {d['max']} (min/p50/p95/max)"
            )
    console.print(table)
    if result.path is not None:
        console.print(f"[green]{result.path}[/green]")
    for problem in stats["validation_problems"]:
        console.print(f"[red]{problem}[/red]")


def main(
    min_rating: int = typer.Option(
        None, min=1, max=5, help="Lowest rating exported; MIN_RATING_THRESHOLD by default"
    ),
    days_back: int = typer.Option(30, min=1, help="Only dialogs of the last N days"),
    max_samples: int = typer.Option(5000, min=1, help="At most this many samples, newest first"),
    out: Path = typer.Option(DEFAULT_OUT, help="Output folder"),
    format: str = typer.Option("chat", help="chat | prompt_completion"),
    include_corrections: bool = typer.Option(
        True, help="An operator's correction replaces the answer"
    ),
    split: float = typer.Option(0.0, min=0.0, max=0.5, help="Share written to a .val.jsonl file"),
    pairs: bool = typer.Option(False, help="Also write DPO preference pairs (.pairs.jsonl)"),
    max_per_session: int = typer.Option(
        None, min=1, help="Rated dialogs per conversation; EXPORT_MAX_PER_SESSION by default"
    ),
) -> None:
    """Export approved dialogs as validated, PII-scrubbed training data."""
    settings = get_settings()
    options = ExportOptions(
        min_rating=min_rating or settings.min_rating_threshold,
        days_back=days_back,
        max_samples=max_samples,
        out_dir=out,
        format=format,
        include_corrections=include_corrections,
        split=split,
        pairs=pairs,
        max_per_session=max_per_session or settings.export_max_per_session,
    )
    database = Database.from_settings(settings)
    try:
        from app.db.migrations import upgrade_to_head

        upgrade_to_head(database.url)
        result = export(database, settings, options)
    finally:
        database.dispose()
    if result.stats["validation_problems"]:
        raise typer.Exit(code=1)


if __name__ == "__main__":
    typer.run(main)
