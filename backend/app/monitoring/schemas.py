"""What the health endpoints answer: the seed's component map, and the probes' one word."""

from pydantic import BaseModel, Field


class HealthResponse(BaseModel):
    status: str = Field(examples=["healthy"], description="healthy | degraded | unhealthy")
    components: dict[str, bool] = Field(
        description="Работает ли каждая часть (как в исходном API)",
        examples=[
            {
                "ai_service": False,
                "embedding_service": True,
                "local_model": False,
                "database": True,
            }
        ],
    )
    details: dict[str, str] = Field(
        description="Состояние частей словом: healthy, unavailable, offline (платная модель "
        "не настроена), disabled, failed",
        examples=[
            {
                "ai_service": "offline",
                "embedding_service": "healthy",
                "local_model": "disabled",
                "database": "healthy",
            }
        ],
    )


class ProbeResponse(BaseModel):
    """What a load balancer or an orchestrator reads: is this replica alive, is it ready."""

    status: str = Field(examples=["ready"], description="alive | ready | not ready")
    reason: str | None = Field(default=None, examples=[None])
