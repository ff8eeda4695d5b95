"""Bodies of similar-dialog search and the vector backfill."""

from pydantic import BaseModel, Field

from app.embeddings.service import SimilarLog


class SimilarDialog(BaseModel):
    log_id: int
    user_message: str = Field(examples=["Когда моют полы в подъезде?"])
    ai_response: str
    similarity_score: float
    rating: int | None

    @classmethod
    def from_similar(cls, found: SimilarLog) -> "SimilarDialog":
        log = found.log
        return cls(
            log_id=log.id,
            user_message=log.user_message,
            ai_response=log.ai_response,
            similarity_score=round(found.similarity, 6),
            rating=log.rating,
        )


class EmbeddingsUpdateResponse(BaseModel):
    success: bool
    processed: int
    errors: int
    total_found: int
