"""Similar past dialogs and the vector backfill. Operators only: they show other residents'
dialogs or cost work."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.access.deps import OperatorDep
from app.api.deps import DatabaseDep, SessionDep, provided
from app.api.schemas import OPERATOR_ERRORS, error_responses
from app.embeddings.schemas import EmbeddingsUpdateResponse, SimilarDialog
from app.embeddings.service import EmbeddingService
from app.records.dialog_log import get_log

router = APIRouter(
    prefix="/api/voice",
    tags=["voice"],
    dependencies=[OperatorDep],
    responses=OPERATOR_ERRORS | error_responses(503),
)
EmbeddingsDep = Annotated[EmbeddingService, Depends(provided(EmbeddingService))]


@router.get(
    "/similar/{log_id}", response_model=list[SimilarDialog], summary="Похожие прошлые диалоги"
)
def similar_dialogs(
    log_id: str,
    embeddings: EmbeddingsDep,
    session: SessionDep,
    limit: int = Query(default=5, ge=1, le=50),
) -> list[SimilarDialog]:
    log = get_log(session, log_id)
    vector = embeddings.vector_of(session, log)
    similar = embeddings.similar_logs(session, vector, limit=limit, exclude_log_id=log.id)
    return [SimilarDialog.from_similar(found) for found in similar]


@router.post(
    "/embeddings/update",
    response_model=EmbeddingsUpdateResponse,
    summary="Досчитать недостающие векторы",
)
def update_embeddings(
    embeddings: EmbeddingsDep,
    database: DatabaseDep,
    batch_size: int = Query(default=100, ge=1, le=1000),
) -> EmbeddingsUpdateResponse:
    result = embeddings.backfill_missing(database, batch_size=batch_size)
    return EmbeddingsUpdateResponse(
        success=result.errors == 0,
        processed=result.processed,
        errors=result.errors,
        total_found=result.total_found,
    )
