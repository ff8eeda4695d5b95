"""Body of a model version in the registry."""

from datetime import datetime

from pydantic import Field

from app.api.schemas import EmptyWhenNull, Schema


class ModelVersionEntry(Schema):
    id: int
    name: str
    base_model: str
    dataset_path: str | None
    path: str
    adapter: bool
    metrics: EmptyWhenNull
    status: str = Field(description="candidate | active | retired | rejected")
    created_at: datetime
    activated_at: datetime | None
