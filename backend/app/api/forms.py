"""Multipart forms read with a Russian reason when they are malformed.

Starlette answers a form it cannot parse with a 400 in English ("Missing boundary in
multipart."); residents and operators read these messages, so each known reason is said in
Russian (still 400: the request is malformed, not merely unacceptable).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from app.core.errors import MalformedRequestError

#: Starlette's reason (a fragment of it) → what the caller is told.
_REASONS = (
    ("Missing boundary", "в заголовке Content-Type нет границы частей (boundary)"),
    ("Too many files", "слишком много файлов: допускается не больше {max_files}"),
    ("Too many fields", "слишком много полей: допускается не больше {max_fields}"),
    ("exceeded maximum size", "поле формы слишком большое"),
    ('"name" must be provided', "у части формы нет имени (Content-Disposition: name)"),
)


def russian_reason(detail: str, *, max_files: int, max_fields: int) -> str:
    for fragment, reason in _REASONS:
        if fragment in detail:
            return reason.format(max_files=max_files, max_fields=max_fields)
    return "её не удалось разобрать"


@asynccontextmanager
async def multipart_form(
    request: Request, *, max_files: int, max_fields: int
) -> AsyncIterator[FormData]:
    """``request.form()``; a form that cannot be parsed is a :class:`MalformedRequestError`."""
    try:
        form = await request.form(max_files=max_files, max_fields=max_fields)
    except HTTPException as error:
        reason = russian_reason(str(error.detail), max_files=max_files, max_fields=max_fields)
        raise MalformedRequestError(f"Некорректная форма multipart/form-data: {reason}") from error
    try:
        yield form
    finally:
        await form.close()
