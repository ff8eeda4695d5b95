"""Dependencies declared once and reused by name in every route."""

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.core.config import Settings
from app.db.database import Database
from app.services.ai_service import AnswerPipeline
from app.services.container import Services
from app.services.embedding_service import EmbeddingService


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


_bearer = HTTPBearer(auto_error=False, description="ADMIN_API_KEY")


def require_operator(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Operator endpoints: ``Authorization: Bearer <ADMIN_API_KEY>``; off without a key."""
    if not settings.admin_api_key:
        raise HTTPException(
            403,
            "Операторские функции отключены: задайте ADMIN_API_KEY в настройках сервиса",
        )
    if credentials is None:
        raise HTTPException(
            401,
            "Нужен ключ оператора: заголовок Authorization: Bearer <ADMIN_API_KEY>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(credentials.credentials.encode(), settings.admin_api_key.encode()):
        raise HTTPException(401, "Неверный ключ оператора", headers={"WWW-Authenticate": "Bearer"})


OperatorDep = Depends(require_operator)
