"""Request latencies for Prometheus: every HTTP request timed until its response's last byte
is sent (the work queued after the response is not the client's wait), labelled by its route's
template (``/api/voice/logs/{log_id}/speech``, not the path a client typed — so a scanner
cannot make a new time series per URL) and status."""

import time

from fastapi import FastAPI

from app.api.load_shedding import QUESTION_PATHS
from app.monitoring.metrics import Metrics

UNMATCHED = "unmatched"


class RequestMetrics:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}
        observed = False

        def observe() -> None:
            nonlocal observed
            metrics = metrics_of(scope["app"])
            if metrics is not None and not observed:
                observed = True
                metrics.request_seconds.labels(
                    scope["method"], route_of(scope), str(status["code"])
                ).observe(time.perf_counter() - started)

        async def send_and_see(message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                observe()  # what the client waited; work after the response is not counted

        try:
            await self.app(scope, receive, send_and_see)
        finally:
            observe()


def route_of(scope) -> str:
    """The matched route's template; a shed question (never routed) by its path."""
    route = getattr(scope.get("route"), "path", None)
    if route is None:
        return scope["path"] if scope["path"] in QUESTION_PATHS else UNMATCHED
    return route


def install_request_metrics(app: FastAPI) -> None:
    app.add_middleware(RequestMetrics)


def metrics_of(app: FastAPI) -> Metrics | None:
    """The process's metrics; None until the lifespan has published the services."""
    return getattr(app.state, "provided", {}).get(Metrics)


def count_shed(app: FastAPI) -> None:
    """What the load shedder calls for each question it refuses."""
    metrics = metrics_of(app)
    if metrics is not None:
        metrics.shed.inc()
