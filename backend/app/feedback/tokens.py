"""Feedback tokens: proof that a rating comes from the conversation that got the answer.

Log ids travel in page source, logs and screenshots; knowing one must not be enough to
rate that answer. ``process`` therefore returns ``feedback_token`` = HMAC(secret, log id,
conversation), and ``feedback`` accepts a rating only with it. Nothing is stored per
answer: any process that knows the secret can check any token.

The secret is ``FEEDBACK_TOKEN_SECRET`` when set (give every replica the same one), or a
random one created once per database and kept in ``app_state``, so replicas sharing a
database agree without configuration and tokens survive restarts.
"""

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.core.config import Settings
from app.db.database import Database
from app.db.models import AppState

SECRET_KEY = "feedback_token_secret"
#: 128 bits of the HMAC: far beyond guessing, short enough for a header.
TOKEN_BYTES = 16


class FeedbackTokens:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def issue(self, log_id: int | str, session_id: str) -> str:
        message = f"{log_id}\n{session_id}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()[:TOKEN_BYTES]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def valid(self, token: str | None, log_id: int | str, session_id: str) -> bool:
        if not token:
            return False
        return hmac.compare_digest(token.encode(), self.issue(log_id, session_id).encode())


def load_token_secret(settings: Settings, database: Database) -> bytes:
    """``FEEDBACK_TOKEN_SECRET``, or the database's own random one. Feedback tokens,
    conversation tokens and client keys are all derived from it."""
    if settings.feedback_token_secret:
        return settings.feedback_token_secret.encode()
    with database.transaction() as session:
        # Several processes starting at once: the first insert wins, all read the same.
        session.execute(
            insert(AppState)
            .values(key=SECRET_KEY, value=secrets.token_urlsafe(32))
            .on_conflict_do_nothing(index_elements=[AppState.key])
        )
        secret = session.scalar(select(AppState.value).where(AppState.key == SECRET_KEY))
    return secret.encode()
