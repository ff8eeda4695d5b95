"""Request rate limits per client address and per conversation (token buckets in memory).

Each key gets a bucket of ``per_minute`` tokens that refills continuously; a request takes
one, and an empty bucket answers with the seconds until the next token (``Retry-After``).
Buckets live in this process: with several service processes each counts on its own, so the
effective limit is per process (a shared store would be the next step for many replicas).
Idle buckets are dropped so that memory stays bounded under many addresses.
"""

import math
import threading
import time
from dataclasses import dataclass

from app.core.errors import RateLimitedError


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_minute: int, max_keys: int = 100_000) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def retry_after(self, key: str, now: float | None = None) -> int | None:
        """Take a token for ``key``; None when allowed, else whole seconds to wait."""
        if not self.enabled:
            return None
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    self._drop_full_buckets(now)
                bucket = self._buckets[key] = _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            return max(1, math.ceil((1 - bucket.tokens) / self.rate))

    def _drop_full_buckets(self, now: float) -> None:
        """Forget keys that have refilled completely: they behave like new ones anyway."""
        idle = self.capacity / self.rate if self.rate else 0
        for key in [k for k, b in self._buckets.items() if now - b.updated >= idle]:
            del self._buckets[key]


@dataclass
class RateLimits:
    """``process`` and ``feedback``: one bucket per client address, one per conversation."""

    client: RateLimiter
    session: RateLimiter

    @classmethod
    def per_minute(cls, client: int, session: int) -> "RateLimits":
        return cls(RateLimiter(client), RateLimiter(session))

    def check(self, client_address: str | None, session_id: str | None) -> None:
        self.check_client(client_address)
        self.check_conversation(session_id)

    def check_client(self, client_address: str | None) -> None:
        _take(self.client, client_address)

    def check_conversation(self, session_id: str | None) -> None:
        _take(self.session, session_id)


def conversation_key(
    session_id: str | None, client_address: str | None, *, holds_token: bool
) -> str | None:
    """The key of a conversation's bucket. A session id is a string anyone can send: keyed
    by it alone, a stranger flooding "kv-12" would lock its resident out. So only the
    holder of the conversation's token charges the conversation itself; anyone else charges
    their own copy of it (client and session id), and their client bucket bounds the rest."""
    if session_id is None:
        return None
    return session_id if holds_token else f"{client_address or '-'} {session_id}"


def _take(limiter: RateLimiter, key: str | None) -> None:
    if key is not None:
        wait = limiter.retry_after(key)
        if wait is not None:
            raise RateLimitedError(wait)
