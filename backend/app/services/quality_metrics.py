"""What residents experienced over a period, computed from ``voice_logs`` in one query.

Definitions (also in the README):

* average rating, over rated answers; rating coverage = rated / all interactions;
* satisfaction = share of rated answers with 4–5★; negative share = share with 1–2★;
* response time mean, p50 and p95, seconds, as logged by the service;
* shares answered by the cache (verified answers), the local model and the paid model; the
  rest came from the knowledge base or the offline fallback;
* cost = sum of what the paid model was billed, and per interaction;
* search accuracy = of the rated answers that semantic search served (cache answers), the
  share residents rated 4–5★: how often what retrieval found was the right answer.
"""

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import Session

from app.db.models import VoiceLog


@dataclass(frozen=True)
class PeriodMetrics:
    period_start: datetime
    period_end: datetime
    interactions: int
    rated: int
    avg_rating: float | None
    rating_coverage: float | None
    satisfaction: float | None
    negative_share: float | None
    avg_response_time: float | None
    p50_response_time: float | None
    p95_response_time: float | None
    cache_share: float | None
    local_share: float | None
    paid_share: float | None
    cost_usd: float
    cost_per_interaction: float | None
    search_accuracy: float | None
    search_rated: int

    def as_dict(self) -> dict:
        values = asdict(self)
        values["period_start"] = self.period_start.isoformat()
        values["period_end"] = self.period_end.isoformat()
        return values


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def period_metrics(session: Session, start: datetime, end: datetime) -> PeriodMetrics:
    rated = VoiceLog.rating.is_not(None)
    cache = VoiceLog.answer_source == "cache"
    row = session.execute(
        select(
            func.count(),
            func.count(VoiceLog.rating),
            func.avg(cast(VoiceLog.rating, Float)),
            func.count().filter(VoiceLog.rating >= 4),
            func.count().filter(VoiceLog.rating <= 2),
            func.avg(VoiceLog.response_time),
            func.percentile_cont(0.5).within_group(VoiceLog.response_time),
            func.percentile_cont(0.95).within_group(VoiceLog.response_time),
            func.count().filter(cache),
            func.count().filter(VoiceLog.answer_source == "local"),
            func.count().filter(VoiceLog.answer_source == "llm"),
            func.coalesce(func.sum(VoiceLog.cost_usd), 0.0),
            func.count().filter(cache, rated),
            func.count().filter(cache, VoiceLog.rating >= 4),
        ).where(VoiceLog.created_at >= start, VoiceLog.created_at < end)
    ).one()
    (total, n_rated, average, positive, negative, mean_time, p50, p95,
     n_cache, n_local, n_paid, cost, cache_rated, cache_good) = row  # fmt: skip
    return PeriodMetrics(
        period_start=start,
        period_end=end,
        interactions=total,
        rated=n_rated,
        avg_rating=_round(average, 3),
        rating_coverage=_share(n_rated, total),
        satisfaction=_share(positive, n_rated),
        negative_share=_share(negative, n_rated),
        avg_response_time=_round(mean_time),
        p50_response_time=_round(p50),
        p95_response_time=_round(p95),
        cache_share=_share(n_cache, total),
        local_share=_share(n_local, total),
        paid_share=_share(n_paid, total),
        cost_usd=round(float(cost), 6),
        cost_per_interaction=round(float(cost) / total, 8) if total else None,
        search_accuracy=_share(cache_good, cache_rated),
        search_rated=cache_rated,
    )
