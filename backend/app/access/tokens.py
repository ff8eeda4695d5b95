"""Feedback tokens: proof that a rating comes from the conversation that got the answer.

Log ids travel in page source, logs and screenshots; knowing one must not be enough to
rate that answer. ``process`` therefore returns ``feedback_token`` = HMAC(secret, log id,
conversation), and ``feedback`` accepts a rating only with it. Nothing is stored per
answer: any process that knows the secret can check any token.

Two secrets, each created once per database so that replicas sharing it agree without
configuration (``FEEDBACK_TOKEN_SECRET``, when set, serves as both):

* the **token secret** signs feedback and conversation tokens. It lives in ``token_secrets``,
  a table whose rows no backup holds: whoever reads a backup cannot forge a rating or join
  a conversation. A restored database makes a new one (outstanding tokens stop working;
  the seed's address rule still lets residents rate their last answers);
* the **client secret** keys client addresses (``app/access/identity.py``). It stays in
  ``app_state`` and so in backups: the client keys stored beside every log must mean the
  same client after a restore, or one client would count as two to the trust model.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.core.config import Settings
from app.db.database import Database
from app.db.models import AppState, TokenSecret

#: The ``app_state`` row of the client secret (its name from when it signed tokens too).
CLIENT_SECRET_KEY = "feedback_token_secret"
TOKEN_SECRET_NAME = "tokens"
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


@dataclass(frozen=True)
class Secrets:
    tokens: bytes
    clients: bytes


def load_secrets(settings: Settings, database: Database) -> Secrets:
    """``FEEDBACK_TOKEN_SECRET`` for both, or the database's own random ones."""
    if settings.feedback_token_secret:
        configured = settings.feedback_token_secret.encode()
        return Secrets(tokens=configured, clients=configured)
    with database.transaction() as session:
        # Several processes starting at once: the first insert wins, all read the same.
        session.execute(
            insert(AppState)
            .values(key=CLIENT_SECRET_KEY, value=secrets.token_urlsafe(32))
            .on_conflict_do_nothing(index_elements=[AppState.key])
        )
        session.execute(
            insert(TokenSecret)
            .values(name=TOKEN_SECRET_NAME, value=secrets.token_urlsafe(32))
            .on_conflict_do_nothing(index_elements=[TokenSecret.name])
        )
        clients = session.scalar(select(AppState.value).where(AppState.key == CLIENT_SECRET_KEY))
        tokens = session.scalar(
            select(TokenSecret.value).where(TokenSecret.name == TOKEN_SECRET_NAME)
        )
    return Secrets(tokens=tokens.encode(), clients=clients.encode())
