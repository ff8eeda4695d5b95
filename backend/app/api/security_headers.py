"""Headers that keep browsers from misusing what the service sends.

Every answer: ``nosniff``, no framing, no referrer. The pages (``/``, ``/operator``,
``/dashboard``, the API docs and their static files) also get a Content-Security-Policy
that allows only the service's own scripts and connections — everything they load is
vendored. Answers to a
request carrying credentials (operator endpoints, logins) are never stored by a cache.
"""

from collections.abc import Iterable

from fastapi import FastAPI

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
EVERY_ANSWER = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
PAGE_PATHS = ("/", "/operator", "/dashboard", "/docs", "/redoc")


def is_page(path: str) -> bool:
    return path in PAGE_PATHS or path.startswith("/static/")


def carries_credentials(scope: dict) -> bool:
    headers = dict(scope.get("headers") or [])
    return b"authorization" in headers or scope.get("path", "").startswith("/api/voice/auth/")


class SecurityHeaders:
    """Pure ASGI middleware: adds the headers to the response start, whatever answered."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(EVERY_ANSWER)
        if is_page(scope.get("path", "")):
            extra.append((b"content-security-policy", PAGE_CSP.encode()))
        if carries_credentials(scope):
            extra.append((b"cache-control", b"no-store"))

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _merged(message.get("headers") or [], extra)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _merged(headers: Iterable, extra: list[tuple[bytes, bytes]]) -> list:
    present = {name.lower() for name, _ in headers}
    return [*headers, *((name, value) for name, value in extra if name not in present)]


def install_security_headers(app: FastAPI) -> None:
    app.add_middleware(SecurityHeaders)
