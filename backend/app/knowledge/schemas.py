"""Bodies of knowledge-base entries."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.api.schemas import NOT_BLANK, PLAIN_TEXT, Schema
from app.knowledge.service import KnowledgeFact


class KnowledgeEntryIn(BaseModel):
    title: str = Field(default="", max_length=300, pattern=PLAIN_TEXT, examples=["Цены"])
    content: str = Field(
        min_length=1,
        max_length=4000,
        pattern=NOT_BLANK,
        examples=["Стандартный тариф: 4800 рублей"],
    )

    def fact(self) -> KnowledgeFact:
        return KnowledgeFact(self.title.strip(), self.content.strip())


class KnowledgeEntryOut(Schema):
    id: int
    title: str
    content: str
    source: str = Field(description="operator, или имя импортированного файла")
    updated_at: datetime
