"""Shedding load instead of queueing it. A replica answers at most
``MAX_CONCURRENT_REQUESTS`` questions at a time; the next one gets 503 at once, with when to
try again, rather than a place in a queue it would leave only after the resident hung up.

A question holds its slot until all its work is done, the work queued after the response
(the question's vector, what it says about the answer before it) included: that work takes
the same cores, and letting it pile up behind the bound would bring the queue back.

Only questions are shed (``process`` and the OpenAI-compatible door): ratings, health and
readiness probes and operators' pages keep working on a busy replica. ``Retry-After`` is in
seconds, as HTTP defines it; ``Retry-After-Ms`` (as OpenAI-compatible clients read it) and
the body give milliseconds. How long follows the replica's load (``retry_advice.py``).

An emergency is not shed: past the limit, a question whose body ``urgent`` recognises (gas,
fire, a person stuck…) still gets in, up to ``reserve`` more at a time. Its answer is a
fixed text, so the reserve costs little; the body is already in memory (the limits layer
read it), so looking costs a JSON parse and a lemma lookup.
"""

import json
import math
from collections.abc import Callable

from fastapi import FastAPI

from app.api.limits import replaying
from app.api.retry_advice import RetryAdvice
from app.core.config import Settings

QUESTION_PATHS = frozenset({"/api/voice/process", "/v1/chat/completions"})


class LoadShedder:
    def __init__(
        self,
        app,
        limit: int,
        advice: RetryAdvice,
        on_shed: Callable[[FastAPI], None] | None = None,
        urgent: Callable[[FastAPI, str, bytes], bool] | None = None,
        reserve: int = 0,
    ) -> None:
        self.app = app
        self.limit = limit
        self.advice = advice
        #: Whether a request body (by app and path) is an emergency, let in past the limit.
        self.urgent = urgent
        self.reserve = reserve
        #: Told of each refusal (the service counts them in ``/metrics``).
        self.on_shed = on_shed
        #: Questions being answered now: changed only on the event loop, so no lock.
        self.in_flight = 0

    def sheds(self, scope) -> bool:
        return (
            scope["type"] == "http"
            and self.limit > 0
            and scope["method"] == "POST"
            and scope["path"] in QUESTION_PATHS
        )

    async def __call__(self, scope, receive, send) -> None:
        if not self.sheds(scope):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            receive = await self._urgent_or_none(scope, receive)
            if receive is None:
                await self._refuse(scope, send)
                return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self.advice.answered()

    async def _urgent_or_none(self, scope, receive):
        """A ``receive`` that replays the body when it is an emergency within the reserve."""
        if self.urgent is None or self.in_flight >= self.limit + self.reserve:
            return None
        message = await receive()
        if message["type"] != "http.request" or message.get("more_body", False):
            return None
        if not self.urgent(scope["app"], scope["path"], message.get("body", b"")):
            return None
        return replaying(message, receive)

    async def _refuse(self, scope, send) -> None:
        if self.on_shed is not None:
            self.on_shed(scope["app"])
        wait = self.advice.refused()
        body = {"detail": f"Сервис сейчас перегружен: повторите вопрос через {wait / 1000:g} с",
                "retry_after_ms": wait}  # fmt: skip
        headers = [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"retry-after", str(math.ceil(wait / 1000)).encode()),
            (b"retry-after-ms", str(wait).encode()),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        encoded = json.dumps(body, ensure_ascii=False).encode()
        await send({"type": "http.response.body", "body": encoded})


def install_load_shedding(
    app: FastAPI,
    settings: Settings,
    on_shed: Callable[[FastAPI], None] | None = None,
    urgent: Callable[[FastAPI, str, bytes], bool] | None = None,
) -> None:
    app.add_middleware(
        LoadShedder,
        limit=settings.max_concurrent_requests,
        advice=RetryAdvice(settings.shed_retry_after_ms, settings.shed_retry_after_max_ms),
        on_shed=on_shed,
        urgent=urgent,
        reserve=settings.emergency_reserved_slots,
    )
