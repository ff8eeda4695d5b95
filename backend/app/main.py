"""FastAPI application factory. Start-up: database (embedded or ``DATABASE_URL``),
migrations, embedder, knowledge base, models — all before the first request."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from app.access import routes as access
from app.alerts import routes as alerts
from app.answering import openai_door
from app.answering import routes as answering
from app.answering.schemas import ProcessRequest
from app.api.errors import install_error_handlers
from app.api.limits import install_limits
from app.api.load_shedding import install_load_shedding
from app.api.openapi import describe_api
from app.api.proxies import install_trusted_proxies
from app.api.security_headers import install_security_headers
from app.background import background_work
from app.container import build_services
from app.core.config import Settings, get_settings
from app.embeddings import routes as embeddings
from app.embeddings.service import Embedder
from app.emergencies.requests import is_urgent
from app.emergencies.service import EmergencyDesk
from app.experiments import routes as experiments
from app.feedback import routes as feedback
from app.knowledge import routes as knowledge
from app.model_versions import routes as model_versions
from app.monitoring import routes as monitoring
from app.monitoring.requests import count_shed, install_request_metrics
from app.quality import routes as quality
from app.retraining import routes as retraining
from app.verified_answers import routes as verified_answers
from app.voice import routes as voice
from app.web.docs import install_docs
from app.web.pages import install_pages

DESCRIPTION = """
Модуль самообучения голосового и чат-ассистента компании «ВасДом» (уборка подъездов).
Отвечает жильцам, учится на оценках и исправлениях операторов, снижает расходы на платную LLM.
"""


def urgent_request(app: FastAPI, path: str, body: bytes) -> bool:
    """What the load shedder asks of a question it would refuse: is it an emergency?"""
    desk = getattr(app.state, "provided", {}).get(EmergencyDesk)
    return is_urgent(desk, path, body)


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    """Build the app. Tests pass their own settings and a shared, already loaded embedder."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await run_in_threadpool(build_services, settings, embedder=embedder)
        app.state.services = services
        app.state.provided = services.provided()
        try:
            async with background_work(services):
                yield
        finally:
            services.close()

    app = FastAPI(
        title="VasDom AudioBot — самообучение",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served from vendored files: app/web/docs.py
        redoc_url=None,
    )
    install_error_handlers(app)
    # ``process`` reads its body by hand (it also takes a recording); the message's limit is
    # the configured one, checked by the pipeline.
    describe_api(app, {ProcessRequest: {"message": {"maxLength": settings.max_message_length}}})
    # Shedding inside the limits: a question's body is read (in time, within its cap)
    # before it takes one of the replica's slots.
    install_load_shedding(app, settings, on_shed=count_shed, urgent=urgent_request)
    install_limits(app, settings)
    install_security_headers(app)
    install_request_metrics(app)
    install_trusted_proxies(app, settings)  # outermost: every layer sees the real client
    for router in (
        answering.router,
        monitoring.health_router,
        feedback.router,
        feedback.operator_router,
        embeddings.router,
        quality.router,
        verified_answers.router,
        model_versions.router,
        retraining.router,
        experiments.router,
        alerts.router,
        knowledge.router,
        access.router,
        voice.router,
        openai_door.router,
        monitoring.router,
    ):
        app.include_router(router)
    install_pages(app)
    install_docs(app)
    return app
