"""``GET /metrics`` for Prometheus, on the service's port, behind the operator key
(Prometheus sends it as a bearer token: ``authorization: {credentials: …}`` in its scrape
config)."""

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.api.deps import OperatorDep, ServicesDep
from app.api.schemas import OPERATOR_ERRORS

router = APIRouter(tags=["operator"], dependencies=[OperatorDep], responses=OPERATOR_ERRORS)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
    summary="Метрики для Prometheus",
)
def metrics(services: ServicesDep) -> Response:
    return Response(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
