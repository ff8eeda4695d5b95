"""One place that turns errors into HTTP answers: a clear message, the right status, no 500
for anything a caller or an outage can cause."""

import logging
import re
from types import MappingProxyType

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.schemas import NOT_BLANK, PLAIN_TEXT
from app.core.errors import (
    AudioTooLargeError,
    ConflictError,
    DomainError,
    FeedbackNotAllowedError,
    InvalidInputError,
    MalformedRequestError,
    NotFoundError,
    RateLimitedError,
    ServiceUnavailableError,
    SpeechTokenMissingError,
    SpeechTokenWrongError,
    UnsupportedAudioError,
)
from app.db.database import connection_lost

logger = logging.getLogger(__name__)

DATABASE_DOWN_MESSAGE = "База данных временно недоступна, попробуйте через минуту"

_STATUS_BY_ERROR = MappingProxyType(
    {
        # Subclasses first: the first match decides.
        UnsupportedAudioError: 415,
        AudioTooLargeError: 413,
        InvalidInputError: 422,
        MalformedRequestError: 400,
        NotFoundError: 404,
        ServiceUnavailableError: 503,
        RateLimitedError: 429,
        FeedbackNotAllowedError: 403,
        SpeechTokenWrongError: 401,
        SpeechTokenMissingError: 401,
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
        "bool_type": "ожидается true или false",
        "extra_forbidden": "неизвестное поле",
        "enum": "допустимые значения — {expected}",
    }
)


_PATTERN_MESSAGES = MappingProxyType(
    {
        NOT_BLANK: "не может быть пустым и не может содержать управляющие символы",
        PLAIN_TEXT: "не может содержать управляющие символы",
    }
)


def _russian_message(error: dict) -> str:
    if error.get("type") == "string_pattern_mismatch":
        return _PATTERN_MESSAGES.get(error.get("ctx", {}).get("pattern"), "неверный формат")
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
    if isinstance(exc, DBAPIError) and not connection_lost(exc):
        logger.exception("database error on %s", request.url.path)
        return JSONResponse({"detail": "Внутренняя ошибка базы данных"}, status_code=500)
    logger.warning("database unavailable on %s: %s", request.url.path, exc)
    return JSONResponse(
        {"detail": DATABASE_DOWN_MESSAGE}, status_code=503, headers={"Retry-After": "5"}
    )


async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """FastAPI's own answer, except that a 405 names every method the path documents:
    Starlette lists only the methods of the first route that matched the path."""
    if exc.status_code == 405:
        allowed = documented_methods(request.app, request.url.path)
        if allowed:
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
    return await http_exception_handler(request, exc)


def documented_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the published schema lists for ``path`` (its templates compiled once per
    app and kept on ``app.state``)."""
    templates = getattr(app.state, "path_templates", None)
    if templates is None:
        templates = [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"),
             sorted(method.upper() for method in operations))
            for template, operations in app.openapi().get("paths", {}).items()
        ]  # fmt: skip
        app.state.path_templates = templates
    return sorted({m for pattern, methods in templates if pattern.match(path) for m in methods})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(PoolTimeoutError, on_database_error)
    # Raised by a session whose connection died mid-transaction: the same outage.
    app.add_exception_handler(PendingRollbackError, on_database_error)
