"""Editing the company knowledge base from the operator console. A change re-embeds the
fact and marks the knowledge base changed, so verified answers older than it are re-checked
(``app/db/app_state.py``)."""

from typing import Literal

from fastapi import APIRouter, Query, Response

from app.access.deps import OperatorDep
from app.api.csv_export import csv_response
from app.api.deps import RowId, SessionDep
from app.api.schemas import OPERATOR_ERRORS, error_responses
from app.knowledge.deps import KnowledgeDep
from app.knowledge.schemas import KnowledgeEntryIn, KnowledgeEntryOut

router = APIRouter(
    prefix="/api/voice/knowledge",
    tags=["knowledge"],
    dependencies=[OperatorDep],
    responses=OPERATOR_ERRORS,
)


@router.get("", response_model=list[KnowledgeEntryOut], summary="Факты компании")
def list_entries(
    knowledge: KnowledgeDep,
    session: SessionDep,
    format: Literal["json", "csv"] = Query("json", description="csv — скачать таблицей"),
):
    entries = [KnowledgeEntryOut.model_validate(e) for e in knowledge.entries(session)]
    if format == "csv":
        return csv_response([e.model_dump(mode="json") for e in entries], "knowledge.csv")
    return entries


@router.post("", response_model=KnowledgeEntryOut, status_code=201, summary="Добавить факт")
def add_entry(
    body: KnowledgeEntryIn, knowledge: KnowledgeDep, session: SessionDep
) -> KnowledgeEntryOut:
    return KnowledgeEntryOut.model_validate(knowledge.add(session, body.fact()))


@router.put(
    "/{entry_id}",
    response_model=KnowledgeEntryOut,
    responses=error_responses(409),
    summary="Изменить факт",
)
def update_entry(
    entry_id: RowId, body: KnowledgeEntryIn, knowledge: KnowledgeDep, session: SessionDep
) -> KnowledgeEntryOut:
    return KnowledgeEntryOut.model_validate(knowledge.update(session, entry_id, body.fact()))


@router.delete("/{entry_id}", status_code=204, summary="Удалить факт")
def delete_entry(entry_id: RowId, knowledge: KnowledgeDep, session: SessionDep) -> Response:
    knowledge.remove(session, entry_id)
    return Response(status_code=204)
