"""One place that turns errors into HTTP answers: a clear message, the right status, no 500
for anything a caller or an outage can cause."""

import logging
from types import MappingProxyType

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.core.errors import (
    ConflictError,
    DomainError,
    FeedbackNotAllowedError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    ServiceUnavailableError,
)

logger = logging.getLogger(__name__)

DATABASE_DOWN_MESSAGE = "База данных временно недоступна, попробуйте через минуту"

_STATUS_BY_ERROR = MappingProxyType(
    {
        InvalidInputError: 422,
        NotFoundError: 404,
        ServiceUnavailableError: 503,
        RateLimitedError: 429,
        FeedbackNotAllowedError: 403,
        ConflictError: 409,
    }
)


def _field_path(location: tuple) -> str:
    return ".".join(str(part) for part in location if part != "body") or "тело запроса"


# Residents and operators read these messages; pydantic's own are English.
_RUSSIAN_MESSAGES = MappingProxyType(
    {
        "missing": "обязательное поле",
        "string_too_short": "слишком короткий текст (минимум {min_length} симв.)",
        "string_too_long": "слишком длинный текст (максимум {max_length} симв.)",
        "string_type": "ожидается строка",
        "int_parsing": "ожидается целое число",
        "int_type": "ожидается целое число",
        "int_from_float": "ожидается целое число",
        "greater_than_equal": "значение должно быть не меньше {ge}",
        "less_than_equal": "значение должно быть не больше {le}",
        "greater_than": "значение должно быть больше {gt}",
        "less_than": "значение должно быть меньше {lt}",
        "uuid_parsing": "ожидается идентификатор в формате UUID",
        "uuid_type": "ожидается идентификатор в формате UUID",
        "model_attributes_type": "ожидается JSON-объект",
        "dict_type": "ожидается JSON-объект",
        "bool_parsing": "ожидается true или false",
        "extra_forbidden": "неизвестное поле",
    }
)


def _russian_message(error: dict) -> str:
    if error.get("type") == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])  # our own validators speak Russian already
    template = _RUSSIAN_MESSAGES.get(str(error.get("type")))
    if template is None:
        return str(error.get("msg", "неверное значение"))
    try:
        return template.format(**error.get("ctx", {}))
    except (KeyError, IndexError):
        return str(error.get("msg", "неверное значение"))


def describe_validation_errors(errors: list[dict]) -> str:
    parts = [
        f"{_field_path(tuple(error.get('loc', ())))}: {_russian_message(error)}" for error in errors
    ]
    return "Некорректный запрос — " + "; ".join(parts)


async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        return JSONResponse({"detail": "Тело запроса не является корректным JSON"}, status_code=400)
    safe_errors = [{k: error[k] for k in ("loc", "msg", "type") if k in error} for error in errors]
    return JSONResponse(
        {"detail": describe_validation_errors(errors), "errors": safe_errors}, status_code=422
    )


async def on_domain_error(request: Request, exc: DomainError) -> JSONResponse:
    status = next((code for kind, code in _STATUS_BY_ERROR.items() if isinstance(exc, kind)), 400)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimitedError) else None
    return JSONResponse({"detail": exc.message}, status_code=status, headers=headers)


async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
    """Connection-level failures are an outage (503, retry later); a value the database
    cannot hold (an id or offset past its integer range) is the caller's; anything else
    is a bug."""
    if isinstance(exc, DataError):
        return JSONResponse(
            {"detail": "Некорректный запрос — значение вне допустимого диапазона"},
            status_code=422,
        )
    if (
        isinstance(exc, DBAPIError)
        and not isinstance(exc, OperationalError)
        and not (exc.connection_invalidated)
    ):
        logger.exception("database error on %s", request.url.path)
        return JSONResponse({"detail": "Внутренняя ошибка базы данных"}, status_code=500)
    logger.warning("database unavailable on %s: %s", request.url.path, exc)
    return JSONResponse(
        {"detail": DATABASE_DOWN_MESSAGE}, status_code=503, headers={"Retry-After": "5"}
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(PoolTimeoutError, on_database_error)


#: Answers any operation can give, whatever its route declares: malformed JSON, a body over
#: MAX_BODY_BYTES, invalid fields (our JSON shape, not FastAPI's default) and a database
#: outage. Documented so clients — and the schema fuzzing — can rely on them.
_COMMON_ERRORS = MappingProxyType(
    {
        "400": "Тело запроса не является корректным JSON",
        "413": "Тело запроса больше MAX_BODY_BYTES",
        "422": "Некорректные данные",
        "503": "База данных временно недоступна",
    }
)


def document_common_errors(app: FastAPI) -> None:
    """Every operation's OpenAPI lists the common error answers with the shape we send."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault(
            "ErrorResponse",
            {
                "type": "object",
                "properties": {"detail": {"type": "string"}},
                "required": ["detail"],
                "title": "ErrorResponse",
            },
        )
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                if any(p.get("name") == "format" for p in operation.get("parameters", [])):
                    # Tables answer format=csv with the same rows as a CSV attachment.
                    ok = responses.setdefault("200", {"description": "OK"})
                    ok.setdefault("content", {})["text/csv"] = {"schema": {"type": "string"}}
                takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
                for status, description in _COMMON_ERRORS.items():
                    if status in {"400", "413", "422"} and not takes_input:
                        continue
                    documented = responses.get(status)
                    if documented is None or _is_fastapi_default(documented):
                        responses[status] = {
                            "description": description,
                            "content": {"application/json": {"schema": error_ref}},
                        }
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi


def _is_fastapi_default(response: dict) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref", "").endswith("/HTTPValidationError")
