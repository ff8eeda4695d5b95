"""``GET /metrics`` for Prometheus, on the service's port, behind the operator key
(Prometheus sends it as a bearer token: ``authorization: {credentials: …}`` in its scrape
config); the seed's ``/api/voice/health`` and the probes a load balancer asks, open to all."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.access.deps import OperatorDep
from app.api.deps import DatabaseDep
from app.api.schemas import OPERATOR_ERRORS
from app.monitoring.deps import HealthDep, MetricsDep
from app.monitoring.schemas import HealthResponse, ProbeResponse

router = APIRouter(tags=["operator"], dependencies=[OperatorDep], responses=OPERATOR_ERRORS)
health_router = APIRouter(prefix="/api/voice", tags=["voice"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
    summary="Метрики для Prometheus",
)
def metrics(metrics: MetricsDep) -> Response:
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


@health_router.get(
    "/health",
    response_model=HealthResponse,
    summary="Проверка состояния",
    responses={503: {"model": HealthResponse, "description": "База данных недоступна"}},
)
def health(checker: HealthDep):
    report = checker.check()
    body = HealthResponse(
        status=report.status, components=report.working, details=report.components
    )
    if report.database_down:
        return JSONResponse(body.model_dump(), status_code=503)
    return body


@health_router.get(
    "/health/live",
    response_model=ProbeResponse,
    summary="Процесс жив (liveness)",
)
def live() -> ProbeResponse:
    """Nothing but the process: a replica whose database is down is alive, only not ready
    (restarting it would not bring the database back)."""
    return ProbeResponse(status="alive")


@health_router.get(
    "/health/ready",
    response_model=ProbeResponse,
    summary="Готов принимать вопросы (readiness)",
    responses={503: {"model": ProbeResponse, "description": "База данных недоступна"}},
)
def ready(database: DatabaseDep):
    """Cheap enough to ask every second: one ``SELECT 1`` (no embedding, no paid call)."""
    try:
        database.ping()
    except Exception:
        body = ProbeResponse(status="not ready", reason="database unavailable")
        return JSONResponse(body.model_dump(), status_code=503)
    return ProbeResponse(status="ready")
