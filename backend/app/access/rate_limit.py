"""Request rate limits per client address and per conversation (token buckets).

Each key gets a bucket of ``per_minute`` tokens that refills continuously; a request takes
one, and an empty bucket answers with the seconds until the next token (``Retry-After``).

``RATE_LIMIT_STORE=postgres`` (the default) keeps the buckets in PostgreSQL
(:class:`SharedRateLimiter`): every replica draws from the same bucket, so a client gets its
limit once, not once per replica. The row of a key is locked while a token is taken — two
replicas never both take the last one. Keys are stored as keyed hashes, never as addresses.
``memory`` keeps them in this process (one replica, or tests of the bucket arithmetic): idle
buckets are dropped so that memory stays bounded under many addresses.
"""

import hashlib
import hmac
import math
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Self

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.errors import RateLimitedError
from app.db.database import Database


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


class SharedRateLimiter:
    """The same token bucket, in ``rate_limit_buckets``, for every replica at once."""

    def __init__(self, per_minute: int, name: str, database: Database, secret: bytes) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.name = name
        self.database = database
        self.secret = secret

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def key_of(self, key: str) -> str:
        digest = hmac.new(self.secret, f"{self.name}\0{key}".encode(), hashlib.sha256)
        return digest.hexdigest()[:40]

    def retry_after(self, key: str) -> int | None:
        """Take a token for ``key``; None when allowed, else whole seconds to wait."""
        if not self.enabled:
            return None
        stored = self.key_of(key)
        with self.database.transaction() as session:
            tokens = session.execute(
                REFILL, {"key": stored, "capacity": self.capacity, "rate": self.rate}
            ).scalar_one()
            if tokens >= 1:
                session.execute(TAKE, {"key": stored})
                return None
        return max(1, math.ceil((1 - tokens) / self.rate))


#: Refill a key's bucket for the time since it was last touched, creating it full; the row
#: stays locked until the transaction ends, so the take below is the only one.
REFILL = text("""
    INSERT INTO rate_limit_buckets AS bucket (key, tokens, updated_at)
    VALUES (:key, :capacity, clock_timestamp())
    ON CONFLICT (key) DO UPDATE SET
        tokens = LEAST(:capacity, bucket.tokens
                 + EXTRACT(EPOCH FROM clock_timestamp() - bucket.updated_at) * :rate),
        updated_at = clock_timestamp()
    RETURNING tokens
""")
TAKE = text("UPDATE rate_limit_buckets SET tokens = tokens - 1 WHERE key = :key")


def forget_idle_buckets(session: Session, idle: timedelta = timedelta(hours=1)) -> int:
    """Buckets untouched for ``idle`` are full again: their rows can go (schedule tick)."""
    deleted = session.execute(
        text("DELETE FROM rate_limit_buckets WHERE updated_at < clock_timestamp() - :idle"),
        {"idle": idle},
    )
    return deleted.rowcount or 0


@dataclass
class RateLimits:
    """``process`` and ``feedback``: one bucket per client address, one per conversation."""

    client: RateLimiter | SharedRateLimiter
    session: RateLimiter | SharedRateLimiter

    @classmethod
    def per_minute(cls, client: int, session: int) -> Self:
        return cls(RateLimiter(client), RateLimiter(session))

    @classmethod
    def shared(
        cls, name: str, client: int, session: int, database: Database, secret: bytes
    ) -> Self:
        """Buckets in PostgreSQL, the same for every replica (``RATE_LIMIT_STORE``)."""
        return cls(
            SharedRateLimiter(client, f"{name}:client", database, secret),
            SharedRateLimiter(session, f"{name}:session", database, secret),
        )

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


def _take(limiter: RateLimiter | SharedRateLimiter, key: str | None) -> None:
    if key is not None:
        wait = limiter.retry_after(key)
        if wait is not None:
            raise RateLimitedError(wait)


class LoginLimits(RateLimits):
    """Operator logins: one bucket per client address, one per username (a type of its own,
    so routes ask for it by type and never get the questions' limits)."""
