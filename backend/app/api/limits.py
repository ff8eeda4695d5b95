"""Cross-cutting HTTP protections: a cap on request bodies and a deadline for sending them,
and CORS only when configured.

The body is read here, whole, before anything else in the app sees the request, and before a
question takes one of the replica's slots (``load_shedding.py`` sits inside this layer): a
client that sends its body a byte at a time holds a socket and a few bytes of memory, not a
slot that residents' questions need.

- **Size.** A declared ``Content-Length`` over the cap is refused at once; a body without
  one (chunked) is counted as it streams in and refused the moment it passes the cap — so at
  most the cap is ever held in memory. 413 with a Russian message either way.
- **Time.** The whole body must arrive within ``BODY_TIMEOUT_SECONDS`` of the headers; past it
  the request is refused with 408 and the connection closed.
"""

import asyncio
import json

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.core.config import Settings

TOO_LARGE = "Слишком большой запрос: не больше {limit} байт"
AUDIO_TOO_LARGE = "Аудиофайл слишком большой: допускается не более {limit} байт"
TOO_SLOW = "Тело запроса не получено за {seconds:g} с: отправьте запрос целиком"
#: Spoken questions are posted here as multipart forms: their cap is MAX_AUDIO_BYTES…
AUDIO_PATHS = frozenset({"/api/voice/process"})
#: …and OpenAI-compatible clients send whole conversations here: MAX_CHAT_BODY_BYTES.
CHAT_PATHS = frozenset({"/v1/chat/completions"})
#: …plus this for the form's other fields and boundaries.
FORM_OVERHEAD_BYTES = 16_384


def replaying(message: dict, receive):
    """A ``receive`` that hands out ``message`` (a body already read) first, then the
    client's own messages, so disconnects reach the app as usual."""
    replayed = False

    async def replay():
        nonlocal replayed
        if not replayed:
            replayed = True
            return message
        return await receive()

    return replay


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message


class BodySizeLimit:
    """Pure ASGI middleware, so it sees the raw byte stream before FastAPI reads it."""

    def __init__(
        self,
        app,
        max_bytes: int,
        audio_max_bytes: int = 0,
        chat_max_bytes: int = 0,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.audio_max_bytes = audio_max_bytes
        self.chat_max_bytes = chat_max_bytes
        self.timeout_seconds = timeout_seconds

    def limit_of(self, path: str, headers: dict[bytes, bytes]) -> tuple[int, str]:
        """The cap of this request and its message (0: none); a recording has a cap of its
        own."""
        content_type = headers.get(b"content-type", b"")
        if path in AUDIO_PATHS and content_type.startswith(b"multipart/form-data"):
            message = AUDIO_TOO_LARGE.format(limit=self.audio_max_bytes)
            return self.audio_max_bytes + FORM_OVERHEAD_BYTES, message
        if path in CHAT_PATHS:
            return self.chat_max_bytes, TOO_LARGE.format(limit=self.chat_max_bytes)
        return self.max_bytes, TOO_LARGE.format(limit=self.max_bytes)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        limit, too_large = self.limit_of(scope["path"], headers)
        declared = headers.get(b"content-length")
        if limit and declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, 413, too_large)
            return
        # Read the body before the app sees it (FastAPI would turn an error raised mid-read
        # into a 400), then hand the app the bytes already read.
        try:
            async with asyncio.timeout(self.timeout_seconds):
                body = await self._read(receive, limit, too_large)
        except TimeoutError:
            await self._refuse(send, 408, TOO_SLOW.format(seconds=self.timeout_seconds))
            return
        except _Refused as refused:
            await self._refuse(send, refused.status, refused.message)
            return
        if body is None:  # the client left before sending it all
            return
        message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, replaying(message, receive), send)

    @staticmethod
    async def _read(receive, limit: int, too_large: str) -> bytes | None:
        chunks, received = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if limit and received > limit:
                raise _Refused(413, too_large)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, send, status: int, message: str) -> None:
        body = json.dumps({"detail": message}, ensure_ascii=False)
        headers = [(b"content-type", b"application/json; charset=utf-8")]
        if status == 408:  # the rest of the body may still come: not a connection to reuse
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body.encode()})


def install_limits(app: FastAPI, settings: Settings) -> None:
    """Add after ``install_load_shedding``: this layer must be outside it (bodies are read
    before a question's slot is taken)."""
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        audio_max_bytes=settings.max_audio_bytes,
        chat_max_bytes=settings.max_chat_body_bytes,
        timeout_seconds=settings.body_timeout_seconds,
    )
    origins = [o.strip() for o in (settings.cors_origins or "").split(",") if o.strip()]
    if origins:  # off unless asked for: the pages are served from the same origin
        app.add_middleware(
            CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )  # fmt: skip
