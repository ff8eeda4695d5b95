"""Dependencies declared once and reused by name in every route."""

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.answering.pipeline import AnswerPipeline
from app.container import Services
from app.core.config import Settings
from app.db.database import Database
from app.embeddings.service import EmbeddingService


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings_dep(services: ServicesDep) -> Settings:
    return services.settings


def get_database(services: ServicesDep) -> Database:
    return services.database


def get_pipeline(services: ServicesDep) -> AnswerPipeline:
    return services.pipeline


def get_embeddings(services: ServicesDep) -> EmbeddingService:
    return services.embeddings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DatabaseDep = Annotated[Database, Depends(get_database)]
PipelineDep = Annotated[AnswerPipeline, Depends(get_pipeline)]
EmbeddingsDep = Annotated[EmbeddingService, Depends(get_embeddings)]


bearer = HTTPBearer(auto_error=False, description="ADMIN_API_KEY или токен входа оператора")


def require_operator(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Operator endpoints: ``Authorization: Bearer <ADMIN_API_KEY or a login token>``.
    Off (403) while neither a key nor any operator account exists."""
    from app.access.operators import account_for_token, accounts_exist

    admin_key = services.settings.admin_api_key
    given = credentials.credentials.encode() if credentials is not None else None
    if given is not None and admin_key and hmac.compare_digest(given, admin_key.encode()):
        return  # the admin key is checked without touching the database
    with services.database.session() as session:
        if not admin_key and not accounts_exist(session):
            raise HTTPException(
                403,
                "Операторские функции отключены: задайте ADMIN_API_KEY в настройках сервиса "
                "или создайте оператора (python -m app.cli operator add ИМЯ)",
            )
        if credentials is None:
            raise HTTPException(
                401,
                "Нужен ключ оператора: заголовок Authorization: Bearer <ADMIN_API_KEY или токен "
                "входа>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if account_for_token(session, credentials.credentials) is None:
            raise HTTPException(
                401,
                "Неверный ключ оператора или вход истёк",
                headers={"WWW-Authenticate": "Bearer"},
            )


OperatorDep = Depends(require_operator)
