"""Operator accounts: argon2-hashed passwords and bearer-token logins.

A login returns a random token (shown once); the database keeps only its SHA-256, with an
expiry of ``OPERATOR_SESSION_HOURS``. Operator endpoints accept such a token or the
``ADMIN_API_KEY``. Wrong usernames and wrong passwords get the same answer and cost the same
argon2 work, so the login does not tell which usernames exist.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.core.errors import InvalidInputError, NotFoundError
from app.db.models import OperatorAccount, OperatorSession

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()
#: Verified against when the username is unknown, so both failures take as long.
_DUMMY_HASH = _hasher.hash("no such operator, same work")


class LoginFailedError(InvalidInputError):
    """Wrong username or password (deliberately not saying which)."""


@dataclass(frozen=True)
class Login:
    token: str
    username: str
    expires_at: datetime


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_account(session: Session, username: str, password: str) -> OperatorAccount:
    username = username.strip()
    if not username:
        raise InvalidInputError("Имя оператора не может быть пустым")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(f"Пароль оператора — не короче {MIN_PASSWORD_LENGTH} символов")
    if session.scalar(select(OperatorAccount).where(OperatorAccount.username == username)):
        raise InvalidInputError(f"Оператор {username} уже есть")
    account = OperatorAccount(username=username, password_hash=_hasher.hash(password))
    session.add(account)
    session.flush()
    return account


def remove_account(session: Session, username: str) -> None:
    account = session.scalar(select(OperatorAccount).where(OperatorAccount.username == username))
    if account is None:
        raise NotFoundError(f"Оператора {username} нет")
    session.delete(account)
    session.flush()


def accounts_exist(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(OperatorAccount)))


def log_in(session: Session, username: str, password: str, hours: float) -> Login:
    account = session.scalar(select(OperatorAccount).where(OperatorAccount.username == username))
    try:
        _hasher.verify(account.password_hash if account else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError) as error:
        raise LoginFailedError("Неверное имя оператора или пароль") from error
    if account is None:
        raise LoginFailedError("Неверное имя оператора или пароль")
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(hours=hours)
    session.add(OperatorSession(token_hash=token_digest(token), account_id=account.id,
                                expires_at=expires))  # fmt: skip
    session.execute(delete(OperatorSession).where(OperatorSession.expires_at < datetime.now(UTC)))
    session.flush()
    return Login(token, account.username, expires)


def account_for_token(session: Session, token: str) -> OperatorAccount | None:
    return session.scalar(
        select(OperatorAccount)
        .join(OperatorSession, OperatorSession.account_id == OperatorAccount.id)
        .where(
            OperatorSession.token_hash == token_digest(token),
            OperatorSession.expires_at > datetime.now(UTC),
        )
    )


def log_out(session: Session, token: str) -> bool:
    """End the login; False when the token names no login (unknown or expired)."""
    ended = session.execute(
        delete(OperatorSession).where(
            OperatorSession.token_hash == token_digest(token),
            OperatorSession.expires_at > datetime.now(UTC),
        )
    )
    return bool(ended.rowcount)
