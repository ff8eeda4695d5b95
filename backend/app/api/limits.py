"""Cross-cutting HTTP protections: a cap on request bodies, and CORS only when configured.

The body cap is checked before anything is parsed: a declared ``Content-Length`` over the
limit is refused at once, and a body without one (chunked) is counted as it streams in and
refused the moment it passes the limit — so at most the cap is ever held in memory. 413 with
a Russian message either way.
"""

import json

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.core.config import Settings

TOO_LARGE = "Слишком большой запрос: не больше {limit} байт"
AUDIO_TOO_LARGE = "Аудиофайл слишком большой: допускается не более {limit} байт"
#: Spoken questions are posted here as multipart forms: their cap is MAX_AUDIO_BYTES…
AUDIO_PATHS = frozenset({"/api/voice/process"})
#: …plus this for the form's other fields and boundaries.
FORM_OVERHEAD_BYTES = 16_384


class BodySizeLimit:
    """Pure ASGI middleware, so it sees the raw byte stream before FastAPI reads it."""

    def __init__(self, app, max_bytes: int, audio_max_bytes: int = 0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.audio_max_bytes = audio_max_bytes

    def limit_of(self, scope) -> tuple[int, str]:
        """The cap of this request and its message: a recording has a cap of its own."""
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
        if scope["path"] in AUDIO_PATHS and content_type.startswith(b"multipart/form-data"):
            message = AUDIO_TOO_LARGE.format(limit=self.audio_max_bytes)
            return self.audio_max_bytes + FORM_OVERHEAD_BYTES, message
        return self.max_bytes, TOO_LARGE.format(limit=self.max_bytes)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not self.max_bytes:
            await self.app(scope, receive, send)
            return
        limit, refusal = self.limit_of(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, refusal)
            return
        # Read the body up to the cap before the app sees it (FastAPI would turn an error
        # raised mid-read into a 400), then hand the app the bytes already read.
        chunks, received = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if received > limit:
                await self._refuse(send, refusal)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: disconnects reach the app as usual

        await self.app(scope, replay, send)

    async def _refuse(self, send, message: str) -> None:
        body = json.dumps({"detail": message}, ensure_ascii=False)
        headers = [(b"content-type", b"application/json; charset=utf-8")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body.encode()})


def install_limits(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        BodySizeLimit, max_bytes=settings.max_body_bytes, audio_max_bytes=settings.max_audio_bytes
    )
    origins = [o.strip() for o in (settings.cors_origins or "").split(",") if o.strip()]
    if origins:  # off unless asked for: the pages are served from the same origin
        app.add_middleware(
            CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )  # fmt: skip
