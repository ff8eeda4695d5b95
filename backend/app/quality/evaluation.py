"""Evaluate the model that answers: period metrics from the logs plus golden-set accuracy.

The golden questions are answered the way the service would answer a question its cache
does not serve — the provider chain (local model, paid model, offline fallback) with the
context the service gives it (the matcher's approved answers, the company facts) and the
grounding guard — but without the cache, and without any example asked in the golden
question's own words: the held-out dialog must not hand the model its own answer. A candidate
model is graded the same way, with itself in the local model's place, so the promotion gate
compares like with like.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.answering.pipeline import AnswerPipeline, first_answer
from app.core.config import Settings
from app.db.database import Database
from app.db.models import AnswerSource, ModelMetrics
from app.embeddings.service import EmbeddingService
from app.llm.base import AnswerProvider
from app.quality.golden_set import GoldenReport, GoldenSet, normalise_question
from app.quality.metrics import PeriodMetrics, period_metrics
from app.quality.retraining_rule import RetrainingDecision, retraining_decision


@dataclass
class Evaluation:
    model_version: str
    metrics: PeriodMetrics
    golden: GoldenReport | None
    decision: RetrainingDecision
    model_metrics_id: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.metrics.interactions == 0 and self.golden is None

    def as_dict(self) -> dict:
        return {
            "model_version": self.model_version,
            "model_metrics_id": self.model_metrics_id,
            **self.metrics.as_dict(),
            **(self.golden.summary() if self.golden else {"accuracy_score": None}),
            "requires_retraining": self.decision.required,
            "reasons": self.decision.reasons,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class ChainGrade:
    report: GoldenReport | None
    local_share: float | None


class ModelEvaluator:
    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        embeddings: EmbeddingService,
        pipeline: AnswerPipeline,
    ) -> None:
        self.settings = settings
        self.database = database
        self.embeddings = embeddings
        self.pipeline = pipeline
        self.golden_set = GoldenSet(
            embeddings.embedder,
            size=settings.golden_set_size,
            min_items=settings.golden_set_min_items,
            min_similarity=settings.golden_min_similarity,
            min_asr_confidence=settings.asr_min_confidence,
        )

    def answerer(
        self, providers: list[AnswerProvider], sources: list[str] | None = None
    ) -> Callable[[str], str]:
        """Answer a golden question as the service would without its cache; ``sources``
        collects which kind of provider answered each one."""
        pipeline = self.pipeline
        embeddings = self.embeddings

        def answer(question: str) -> str:
            vector = embeddings.question_vector(question)
            with self.database.session() as session:
                context, guard = pipeline.context_and_guard(session, question, vector)
            own = normalise_question(question)
            # The held-out dialog itself is not shown: only what other residents' questions
            # taught the service.
            examples = [e for e in context.examples if normalise_question(e.question) != own]
            reply = first_answer(
                providers, pipeline.offline, replace(context, examples=examples), guard
            )
            if sources is not None:
                sources.append(reply.source)
            return reply.text

        return answer

    def score_golden(self, providers: list[AnswerProvider]) -> GoldenReport | None:
        return self.grade_chain(providers).report

    def grade_chain(self, providers: list[AnswerProvider]) -> "ChainGrade":
        """The golden report of a provider chain, and the share of golden questions its
        local model answered (no paid call)."""
        with self.database.session() as session:
            items = self.golden_set.items(session)
        sources: list[str] = []
        report = self.golden_set.grade(items, self.answerer(providers, sources))
        local = sum(source == AnswerSource.LOCAL for source in sources)
        return ChainGrade(report, round(local / len(sources), 4) if sources else None)

    def evaluate(
        self, days: int, *, golden: bool = True, now: datetime | None = None, save: bool = True
    ) -> Evaluation:
        end = now or datetime.now(UTC)
        start = end - timedelta(days=days)
        notes = []
        with self.database.transaction() as session:
            metrics = period_metrics(session, start, end)
            size = self.golden_set.ensure(session) if golden else 0
        if golden and not size:
            needed = 5 * self.settings.golden_set_min_items
            notes.append(f"no golden set yet: it needs {needed} distinct approved questions")
        report = self.score_golden(self.pipeline.providers()) if size else None
        evaluation = Evaluation(
            model_version=self.pipeline.current_model(),
            metrics=metrics,
            golden=report,
            decision=retraining_decision(metrics, self.settings),
            notes=notes,
        )
        if save and not evaluation.empty:
            evaluation.model_metrics_id = self._save(evaluation)
        return evaluation

    def _save(self, evaluation: Evaluation) -> int:
        metrics = evaluation.metrics
        row = ModelMetrics(
            model_version=evaluation.model_version,
            period_start=metrics.period_start,
            period_end=metrics.period_end,
            avg_rating=metrics.avg_rating,
            satisfaction=metrics.satisfaction,
            negative_share=metrics.negative_share,
            rating_coverage=metrics.rating_coverage,
            avg_response_time=metrics.avg_response_time,
            p95_response_time=metrics.p95_response_time,
            accuracy_score=evaluation.golden.accuracy_score if evaluation.golden else None,
            search_accuracy=metrics.search_accuracy,
            n_interactions=metrics.interactions,
            n_rated=metrics.rated,
            details=evaluation.as_dict(),
        )
        with self.database.transaction() as session:
            session.add(row)
            session.flush()
            return row.id


def latest_evaluation(session: Session) -> ModelMetrics | None:
    """The most recent ``evaluate_model`` run (a ``model_metrics`` row)."""
    return session.scalar(select(ModelMetrics).order_by(ModelMetrics.id.desc()).limit(1))
