"""Export approved dialogs as validated training data: the library behind
``python -m training.export_logs`` and the retraining worker (no console, no exit codes).

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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import and_, func, select

from app.core.config import Settings
from app.core.pii import PiiScrubber, public_strings
from app.db.database import Database
from app.db.models import (
    NEGATIVE_RATING,
    GoldenSetItem,
    KnowledgeEntry,
    TrainingDataset,
    VoiceEmbedding,
    VoiceLog,
    approved_dialog,
    client_of_log,
    heard_surely,
    misheard,
)
from app.llm.prompt import SYSTEM_PROMPT, render_plain
from app.quality.golden_set import normalise_question
from app.verified_answers.grounding import TrustedContacts
from app.verified_answers.service import text_key, trusted_contacts, withdrawn_texts
from training.dataset_format import FORMATS, validate_file
from training.grounded_samples import GroundedSample, GroundedSampler, PoolEntry

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
    #: Samples in the service's prompt form: the answer among ``distractors`` other
    #: answers, or (``no_answer_share`` of them) only distractors and the hand-on answer
    #: (``training/grounded_samples.py``).
    grounded: bool = False
    distractors: int = 2
    no_answer_share: float = 0.15


@dataclass
class ExportOptionsError(ValueError):
    """Options the export cannot run with; the CLI shows it as a bad parameter."""


#: Told how many candidate dialogs were read so far, of how many.
ProgressHook = Callable[[int, int], None]


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
    #: ready | empty | invalid (failed validation), as recorded in ``training_datasets``.
    status: str = "empty"


@dataclass
class _Example:
    log_id: str
    #: The client the dialog counts as (its conversation for logs older than client keys).
    client: str
    question: str
    answer: str
    rating: int | None
    corrected: bool
    created_at: datetime
    #: A spoken question whose transcript the recogniser was unsure of (ASR_MIN_CONFIDENCE).
    misheard: bool = False


class _Cleaner:
    """Applies the cleaning rules in order and counts what each one removed."""

    def __init__(
        self,
        options: ExportOptions,
        refused_answers: set[str],
        held_out: set[str] = frozenset(),
        contacts: TrustedContacts | None = None,
    ) -> None:
        self.options = options
        self.refused = refused_answers
        #: Residents' answers with contact details the company never published are what a
        #: phisher would teach a model (the grounding rule of the cache, applied here too).
        self.contacts = contacts or TrustedContacts([])
        #: Golden-set questions (normalised): graded on, so never trained on.
        self.held_out = held_out
        self.removed: Counter[str] = Counter()
        #: Rated dialogs kept per distinct client (EXPORT_MAX_PER_SESSION): session ids
        #: are the client's choice, so the cap counts clients.
        self._per_client: Counter[str] = Counter()
        self._seen_pairs: set[tuple[str, str]] = set()
        self._kept_vectors: dict[str, list[np.ndarray]] = {}

    def keep(self, example: _Example, vector: np.ndarray | None) -> bool:
        rule = self._rejecting_rule(example, vector)
        if rule is not None:
            self.removed[rule] += 1
            return False
        return True

    def _rejecting_rule(self, example: _Example, vector: np.ndarray | None) -> str | None:
        """The first rule that removes the example, in the order the statistics list them;
        the rules after the content checks remember what was kept."""
        return self._content_rule(example) or self._repetition_rule(example, vector)

    def _content_rule(self, example: _Example) -> str | None:
        options = self.options
        if example.misheard:
            return "misheard_transcript"
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
        if not example.corrected and self.contacts.ungrounded(example.answer):
            return "unpublished_contacts"
        return None

    def _repetition_rule(self, example: _Example, vector: np.ndarray | None) -> str | None:
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
            if self._per_client[example.client] >= self.options.max_per_session:
                return "session_cap"
            self._per_client[example.client] += 1
        self._seen_pairs.add(pair_key)
        return None


@dataclass(frozen=True)
class _Context:
    """What the export reads once before streaming: the PII scrubber (company facts are
    public), how many dialogs match, answers refused later and golden-set questions."""

    scrubber: PiiScrubber
    candidates: int
    refused: set[str]
    held_out: set[str]
    contacts: TrustedContacts


def _read_context(database: Database, where) -> _Context:
    with database.session() as session:
        facts = session.scalars(select(KnowledgeEntry.content)).all()
        return _Context(
            scrubber=PiiScrubber(keep=public_strings(list(facts))),
            candidates=session.scalar(select(func.count()).select_from(VoiceLog).where(where)) or 0,
            refused=_refused_answers(session),
            held_out=set(session.scalars(select(GoldenSetItem.question_key))),
            contacts=trusted_contacts(session),
        )


class _SampleWriter:
    """Writes kept examples to the training file, or by ``split`` to the validation file,
    and counts what it wrote for the statistics."""

    def __init__(self, options: ExportOptions, path: Path, validation_path: Path) -> None:
        self.options = options
        self.path, self.validation_path = path, validation_path
        self._split = random.Random(options.seed)
        self.written = self.validation = 0
        self.ratings: Counter[str] = Counter()
        self.question_lengths: list[int] = []
        self.answer_lengths: list[int] = []

    @property
    def total(self) -> int:
        return self.written + self.validation

    def write(
        self,
        files,
        example: _Example,
        question: str,
        answer: str,
        grounded: GroundedSample | None = None,
    ) -> None:
        train_file, val_file = files
        sample = _sample(self.options.format, example, question, answer, grounded)
        line = json.dumps(sample, ensure_ascii=False)
        if self.options.split > 0 and self._split.random() < self.options.split:
            val_file.write(line + "\n")
            self.validation += 1
        else:
            train_file.write(line + "\n")
            self.written += 1
        self.ratings["corrected" if example.corrected else str(example.rating)] += 1
        self.question_lengths.append(len(question))
        self.answer_lengths.append(len(answer))


def export(
    database: Database,
    settings: Settings,
    options: ExportOptions,
    progress: ProgressHook | None = None,
) -> ExportResult:
    if options.format not in FORMATS:
        raise ExportOptionsError(f"--format must be one of {', '.join(FORMATS)}")
    if options.grounded and options.distractors < 1:
        raise ExportOptionsError("--distractors must be at least 1 for grounded samples")
    if not 0 <= options.no_answer_share <= 1:
        raise ExportOptionsError("--no-answer-share must be between 0 and 1")
    cutoff = datetime.now(UTC) - timedelta(days=options.days_back)
    approved = (
        approved_dialog(options.min_rating)
        if options.include_corrections
        else VoiceLog.rating >= options.min_rating
    )
    where = and_(VoiceLog.created_at >= cutoff, approved)
    context = _read_context(database, where)
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    options.out_dir.mkdir(parents=True, exist_ok=True)
    writer = _SampleWriter(
        options,
        options.out_dir / f"training_data_{stamp}.jsonl",
        options.out_dir / f"training_data_{stamp}.val.jsonl",
    )
    cleaner = _Cleaner(options, context.refused, context.held_out, context.contacts)
    seen = _write_samples(database, settings, options, where, context, cleaner, writer, progress)
    if context.candidates > seen:
        cleaner.removed["over_max_samples"] = context.candidates - seen
    result = _validated_result(database, settings, options, context, writer, cutoff)
    result.stats |= {"removed": dict(sorted(cleaner.removed.items()))}
    _record(database, options, result)
    return result


def _write_samples(database, settings, options, where, context, cleaner, writer, progress) -> int:
    """Stream, clean, scrub and write; returns how many candidates were looked at.
    Grounded samples need every kept dialog first (distractors come from all of them)."""
    seen = 0
    kept: list[tuple[_Example, PoolEntry]] = []
    with (
        writer.path.open("w", encoding="utf-8") as train_file,
        writer.validation_path.open("w", encoding="utf-8") as val_file,
    ):
        files = (train_file, val_file)
        for example, vector in _stream(database, settings, where, options.include_corrections):
            if writer.total + len(kept) >= options.max_samples:
                break  # newest first: everything older is over the limit
            seen += 1
            if progress is not None:
                progress(seen, context.candidates)
            if cleaner.keep(example, vector):
                question = context.scrubber.scrub(example.question)
                answer = context.scrubber.scrub(example.answer)
                if options.grounded:
                    kept.append((example, PoolEntry(question, answer, vector)))
                else:
                    writer.write(files, example, question, answer)
        if kept:
            sampler = GroundedSampler(
                [entry for _, entry in kept],
                distractors=options.distractors,
                no_answer_share=options.no_answer_share,
                seed=options.seed,
            )
            for index, (example, entry) in enumerate(kept):
                grounded = sampler.sample(index)
                writer.write(files, example, entry.question, entry.answer, grounded)
    if writer.validation == 0:
        writer.validation_path.unlink()
    return seen


def _validated_result(database, settings, options, context, writer, cutoff) -> ExportResult:
    """Validate what was written (and write the preference pairs), with the statistics."""
    problems = validate_file(writer.path, options.format)
    if writer.validation:
        problems += validate_file(writer.validation_path, options.format)
    result = ExportResult(
        path=writer.path,
        samples=writer.written,
        validation_path=writer.validation_path if writer.validation else None,
        validation_samples=writer.validation,
    )
    if options.pairs:
        result.pairs_path, result.pairs = _write_pairs(
            database, settings, options, context.scrubber,
            writer.path.with_suffix(".pairs.jsonl"), cutoff, context.held_out,
        )  # fmt: skip
        problems += validate_file(result.pairs_path, "pairs")
    result.stats = {
        "candidates": context.candidates,
        "samples": writer.written,
        "validation_samples": writer.validation,
        "preference_pairs": result.pairs,
        "by_rating": dict(sorted(writer.ratings.items())),
        "removed": {},
        "question_chars": _distribution(writer.question_lengths),
        "answer_chars": _distribution(writer.answer_lengths),
        "validation_problems": problems[:20],
    }
    result.status = "invalid" if problems else ("ready" if writer.total else "empty")
    return result


def _record(database: Database, options: ExportOptions, result: ExportResult) -> None:
    """The statistics file beside the data, and the ``training_datasets`` row."""
    path = result.path
    path.with_suffix(".stats.json").write_text(
        json.dumps(result.stats, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    with database.transaction() as session:
        row = TrainingDataset(
            dataset_name=path.stem,
            path=str(path),
            total_samples=result.samples + result.validation_samples,
            filters=_filters(options),
            stats=result.stats,
            status=result.status,
        )
        session.add(row)
        session.flush()
        result.dataset_id = row.id


def _stream(database: Database, settings: Settings, where, include_corrections: bool):
    """Rows newest first, in batches from a server-side cursor: memory stays flat."""
    query = (
        select(
            VoiceLog.id,
            client_of_log().label("client"),
            VoiceLog.user_message,
            VoiceLog.ai_response,
            VoiceLog.corrected_response,
            VoiceLog.rating,
            VoiceLog.created_at,
            VoiceLog.asr_confidence,
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
                client=row.client,
                question=row.user_message,
                answer=row.corrected_response if corrected else row.ai_response,
                rating=row.rating,
                corrected=corrected,
                created_at=row.created_at,
                misheard=misheard(row.asr_confidence, settings.asr_min_confidence),
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


def _sample(
    kind: str,
    example: _Example,
    question: str,
    answer: str,
    grounded: GroundedSample | None = None,
) -> dict:
    meta = {
        "log_id": example.log_id,
        "rating": example.rating,
        "corrected": example.corrected,
        "created_at": example.created_at.isoformat(),
    }
    if grounded is None:
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    else:
        messages = grounded.messages
        meta |= {
            "answer_in_context": grounded.answer_in_context,
            "distractors": grounded.distractors,
        }
    if kind == "prompt_completion":
        *prompt, target = messages
        return {"prompt": render_plain(prompt), "completion": f" {target['content']}", "meta": meta}
    return {"messages": messages, "meta": meta}


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
            .where(
                VoiceLog.created_at >= cutoff,
                VoiceLog.corrected_response.is_not(None),
                heard_surely(settings.asr_min_confidence),
            )
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
                VoiceLog.rating <= NEGATIVE_RATING,
                VoiceLog.corrected_response.is_(None),
                heard_surely(settings.asr_min_confidence),
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
                    approved_dialog(options.min_rating),
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
        "grounded": options.grounded,
        "distractors": options.distractors,
        "no_answer_share": options.no_answer_share,
    }
