"""What residents experienced over a period, computed from ``voice_logs`` in one query.

Definitions (also in the README):

* average rating, over rated answers; rating coverage = rated / all interactions;
* satisfaction = share of rated answers with 4–5★; negative share = share with 1–2★;
* response time mean, p50 and p95, seconds, as logged by the service;
* shares answered by the cache (verified answers), the local model and the paid model; the
  rest came from the knowledge base or the offline fallback;
* cost = sum of what the paid model was billed, and per interaction;
* search accuracy = of the rated answers that semantic search served (cache answers), the
  share residents rated 4–5★: how often what retrieval found was the right answer;
* per distinct client (``clients``): the same rating figures with every client's ratings
  counted once (the mean of each client's mean), and how many clients rated. Session ids
  are the client's choice, so one script rating 30 answers from 30 sessions is one client
  here: decisions (retraining, quality alerts) use these figures, not the raw ones;
* implicit satisfaction = share of answers that the resident's next message neither asked
  again nor escalated to a person, and that were not abandoned after no model could answer
  (``answer_signals``); re-asked, escalated and thanked count those answers. It covers
  every answer, rated or not; per client (``clients.implicit_satisfaction``), each
  client's share counts once.
"""

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from types import MappingProxyType

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.orm import Session

from app.db.models import (
    NEGATIVE_RATING,
    POSITIVE_RATING,
    UNHELPED_SIGNALS,
    AnswerSource,
    SignalKind,
    VoiceLog,
    client_of_log,
    signalled,
)


@dataclass(frozen=True)
class ClientFigures:
    """Rating figures in which each distinct client weighs the same."""

    rated_clients: int
    avg_rating: float | None
    satisfaction: float | None
    negative_share: float | None
    #: Distinct clients answered, and the mean over them of each one's share of answers
    #: neither re-asked nor escalated: what the retraining rule reads when few rate.
    answered_clients: int = 0
    implicit_satisfaction: float | None = None


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
    cache_answers: int
    local_answers: int
    paid_answers: int
    cache_share: float | None
    local_share: float | None
    paid_share: float | None
    cost_usd: float
    cost_per_interaction: float | None
    search_accuracy: float | None
    search_rated: int
    re_asked: int
    escalated: int
    thanked: int
    implicit_satisfaction: float | None
    #: Filled by ``period_metrics`` and ``metrics_over_time``; None only when built by hand.
    clients: ClientFigures | None = None

    def as_dict(self) -> dict:
        values = asdict(self)
        values["period_start"] = self.period_start.isoformat()
        values["period_end"] = self.period_end.isoformat()
        return values


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def rating_aggregates() -> list:
    """Interactions, rated, average rating, satisfied (4–5★) and dissatisfied (1–2★)
    counts: the one definition every rating figure of the service is computed from."""
    return [
        func.count(),
        func.count(VoiceLog.rating),
        func.avg(cast(VoiceLog.rating, Float)),
        func.count().filter(VoiceLog.rating >= POSITIVE_RATING),
        func.count().filter(VoiceLog.rating <= NEGATIVE_RATING),
    ]


def _aggregates() -> list:
    """The figures of one period as SQL aggregates; the order is ``_from_row``'s."""
    rated = VoiceLog.rating.is_not(None)
    cache = VoiceLog.answer_source == AnswerSource.CACHE
    return [
        *rating_aggregates(),
        func.avg(VoiceLog.response_time),
        func.percentile_cont(0.5).within_group(VoiceLog.response_time),
        func.percentile_cont(0.95).within_group(VoiceLog.response_time),
        func.count().filter(cache),
        func.count().filter(VoiceLog.answer_source == AnswerSource.LOCAL),
        func.count().filter(VoiceLog.answer_source == AnswerSource.LLM),
        func.coalesce(func.sum(VoiceLog.cost_usd), 0.0),
        func.count().filter(cache, rated),
        func.count().filter(cache, VoiceLog.rating >= POSITIVE_RATING),
        func.count().filter(signalled(SignalKind.RE_ASK)),
        func.count().filter(signalled(SignalKind.ESCALATION)),
        func.count().filter(signalled(SignalKind.THANKS)),
        func.count().filter(signalled(*UNHELPED_SIGNALS)),
    ]


def _from_row(row, start: datetime, end: datetime) -> PeriodMetrics:
    (total, n_rated, average, positive, negative, mean_time, p50, p95,
     n_cache, n_local, n_paid, cost, cache_rated, cache_good,
     re_asked, escalated, thanked, unhelped) = row  # fmt: skip
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
        cache_answers=n_cache,
        local_answers=n_local,
        paid_answers=n_paid,
        cache_share=_share(n_cache, total),
        local_share=_share(n_local, total),
        paid_share=_share(n_paid, total),
        cost_usd=round(float(cost), 6),
        cost_per_interaction=round(float(cost) / total, 8) if total else None,
        search_accuracy=_share(cache_good, cache_rated),
        search_rated=cache_rated,
        re_asked=re_asked,
        escalated=escalated,
        thanked=thanked,
        implicit_satisfaction=_share(total - unhelped, total),
    )


def _client_figures_by(session: Session, start: datetime, end: datetime, period=None) -> dict:
    """Each client's mean rating, satisfied and dissatisfied shares, then their mean —
    over the whole span (key None) or per ``period`` (a SQL expression over the log)."""
    rating = cast(VoiceLog.rating, Float)
    periods = [] if period is None else [period.label("period")]
    per_client = (
        select(
            *periods,
            func.avg(rating).label("mean"),
            func.avg(case((VoiceLog.rating >= POSITIVE_RATING, 1.0), else_=0.0)).label("good"),
            func.avg(case((VoiceLog.rating <= NEGATIVE_RATING, 1.0), else_=0.0)).label("bad"),
        )
        .where(
            VoiceLog.created_at >= start,
            VoiceLog.created_at < end,
            VoiceLog.rating.is_not(None),
        )
        .group_by(*periods, client_of_log())
        .subquery()
    )
    key = [] if period is None else [per_client.c.period]
    rows = session.execute(
        select(
            *key,
            func.count(),
            func.avg(per_client.c.mean),
            func.avg(per_client.c.good),
            func.avg(per_client.c.bad),
        ).group_by(*key)
    ).all()
    figures = {}
    for row in rows:
        *period_start, clients, mean, good, bad = row
        figures[period_start[0] if period_start else None] = ClientFigures(
            clients, _round(mean, 3), _round(good), _round(bad)
        )
    return figures


NO_RATING_CLIENTS = ClientFigures(0, None, None, None)


def _implicit_by_client(session: Session, start: datetime, end: datetime, period=None) -> dict:
    """How many clients were answered, and the mean of each one's share of answers its
    next message neither re-asked nor escalated (a script's many sessions are one client):
    over the whole span (key None) or per ``period``."""
    helped = case((signalled(*UNHELPED_SIGNALS), 0.0), else_=1.0)
    periods = [] if period is None else [period.label("period")]
    per_client = (
        select(*periods, func.avg(helped).label("share"))
        .where(VoiceLog.created_at >= start, VoiceLog.created_at < end)
        .group_by(*periods, client_of_log())
        .subquery()
    )
    key = [] if period is None else [per_client.c.period]
    rows = session.execute(
        select(*key, func.count(), func.avg(per_client.c.share)).group_by(*key)
    ).all()
    return {
        (period_start[0] if period_start else None): (clients, _round(mean))
        for *period_start, clients, mean in rows
    }


def _clients_by(session: Session, start: datetime, end: datetime, period=None) -> dict:
    """Per-client rating and implicit figures, over the span (key None) or per period."""
    rated = _client_figures_by(session, start, end, period)
    implicit = _implicit_by_client(session, start, end, period)
    return {
        key: replace(
            rated.get(key, NO_RATING_CLIENTS), answered_clients=clients, implicit_satisfaction=share
        )
        for key, (clients, share) in implicit.items()
    }


def client_figures(session: Session, start: datetime, end: datetime) -> ClientFigures:
    """The per-client rating figures of one period, and the per-client implicit ones."""
    return _clients_by(session, start, end).get(None, NO_RATING_CLIENTS)


def period_metrics(session: Session, start: datetime, end: datetime) -> PeriodMetrics:
    row = session.execute(
        select(*_aggregates()).where(VoiceLog.created_at >= start, VoiceLog.created_at < end)
    ).one()
    return replace(_from_row(row, start, end), clients=client_figures(session, start, end))


BUCKETS = MappingProxyType({"day": timedelta(days=1), "week": timedelta(weeks=1)})


def metrics_over_time(
    session: Session, start: datetime, end: datetime, bucket: str
) -> list[PeriodMetrics]:
    """The same figures per day or week (UTC, weeks start on Monday), per-client ones
    included; buckets without interactions are left out. Two grouped queries."""
    period = func.date_trunc(bucket, VoiceLog.created_at, "UTC")
    labelled = period.label("period")
    rows = session.execute(
        select(labelled, *_aggregates())
        .where(VoiceLog.created_at >= start, VoiceLog.created_at < end)
        .group_by(labelled)
        .order_by(labelled)
    ).all()
    clients = _clients_by(session, start, end, period)
    step = BUCKETS[bucket]
    return [
        replace(
            _from_row(row[1:], row[0], row[0] + step),
            clients=clients.get(row[0], NO_RATING_CLIENTS),
        )
        for row in rows
    ]


def estimated_savings(points: list[PeriodMetrics]) -> float:
    """What the answers given without a paid call would have cost at the mean price of a
    paid answer over the same points; 0 when no paid answer was logged."""
    paid = sum(p.paid_answers for p in points)
    free = sum(p.cache_answers + p.local_answers for p in points)
    cost = sum(p.cost_usd for p in points)
    return round(free * cost / paid, 6) if paid else 0.0
