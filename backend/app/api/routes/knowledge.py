"""Editing the company knowledge base from the operator console. Operator key required.
A change re-embeds the fact and marks the knowledge base changed, so verified answers older
than it are re-checked (app/db/app_state.py)."""

from typing import Literal

from fastapi import APIRouter, Query, Response

from app.api.csv_export import csv_response
from app.api.deps import OperatorDep, ServicesDep
from app.api.operator_schemas import KnowledgeEntryIn, KnowledgeEntryOut
from app.api.routes.operator import ERRORS
from app.db.models import KnowledgeEntry
from app.knowledge.service import KnowledgeFact

router = APIRouter(prefix="/api/voice/knowledge", tags=["knowledge"], dependencies=[OperatorDep])


def _out(entry: KnowledgeEntry) -> KnowledgeEntryOut:
    return KnowledgeEntryOut(id=entry.id, title=entry.title, content=entry.content,
                             source=entry.source, updated_at=entry.updated_at)  # fmt: skip


def _fact(body: KnowledgeEntryIn) -> KnowledgeFact:
    return KnowledgeFact(body.title.strip(), body.content.strip())


@router.get("", response_model=list[KnowledgeEntryOut], responses=ERRORS, summary="Факты компании")
def list_entries(
    services: ServicesDep,
    format: Literal["json", "csv"] = Query("json", description="csv — скачать таблицей"),
):
    with services.database.session() as session:
        entries = [_out(e) for e in services.knowledge.entries(session)]
    if format == "csv":
        return csv_response([e.model_dump(mode="json") for e in entries], "knowledge.csv")
    return entries


@router.post(
    "", response_model=KnowledgeEntryOut, status_code=201, responses=ERRORS, summary="Добавить факт"
)
def add_entry(body: KnowledgeEntryIn, services: ServicesDep) -> KnowledgeEntryOut:
    with services.database.session() as session:
        return _out(services.knowledge.add(session, _fact(body)))


@router.put(
    "/{entry_id}", response_model=KnowledgeEntryOut, responses=ERRORS, summary="Изменить факт"
)
def update_entry(entry_id: int, body: KnowledgeEntryIn, services: ServicesDep) -> KnowledgeEntryOut:
    with services.database.session() as session:
        return _out(services.knowledge.update(session, entry_id, _fact(body)))


@router.delete("/{entry_id}", status_code=204, responses=ERRORS, summary="Удалить факт")
def delete_entry(entry_id: int, services: ServicesDep) -> Response:
    with services.database.session() as session:
        services.knowledge.remove(session, entry_id)
    return Response(status_code=204)
