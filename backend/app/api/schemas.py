"""What every router's bodies share: the base schema and the error body."""

from types import MappingProxyType
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class Schema(BaseModel):
    """Base of response bodies built from ORM rows (``Entry.model_validate(row)``), so no
    route copies fields by hand."""

    model_config = ConfigDict(from_attributes=True)


#: Control characters other than tab and line breaks (NUL among them, which PostgreSQL cannot
#: store): text carrying them is refused by the schema, before any model call or query.
_CONTROL = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f"
#: Plain text: no control characters.
PLAIN_TEXT = rf"^[^{_CONTROL}]*$"
#: Plain text that says something: at least one character besides spaces.
NOT_BLANK = rf"^[^{_CONTROL}]*[^\s{_CONTROL}][^{_CONTROL}]*$"

#: A row id as the API shows it (a UUID row key read from the ORM becomes its text).
IdText = Annotated[str, BeforeValidator(lambda value: str(value))]


#: A JSON column that may be NULL, shown as an empty object.
EmptyWhenNull = Annotated[dict, BeforeValidator(lambda value: value or {})]


class ErrorResponse(BaseModel):
    detail: str = Field(examples=["Сообщение не может быть пустым"])


def error_responses(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI ``responses`` for a router: each status with the error body and what it means.
    Declared once per router (``APIRouter(responses=...)``), not per operation."""
    return {
        status: {"model": ErrorResponse, "description": MEANINGS[status]} for status in statuses
    }


MEANINGS = MappingProxyType(
    {
        401: "Нет ключа оператора или он неверный",
        403: "Операторские функции отключены",
        404: "Запись не найдена",
        409: "Конфликт с уже сохранёнными данными",
        413: "Тело запроса больше MAX_BODY_BYTES (запись вопроса — MAX_AUDIO_BYTES)",
        415: "Аудио в формате, который сервер не читает",
        422: "Некорректные данные",
        429: "Слишком много запросов",
        503: "База данных недоступна",
    }
)

#: Operator routers: the key is checked before anything else.
OPERATOR_ERRORS = error_responses(401, 403, 404, 422)
