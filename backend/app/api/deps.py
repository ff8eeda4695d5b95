"""Dependencies declared once and reused by name in every route."""

from typing import Annotated

from fastapi import Depends, Request

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
