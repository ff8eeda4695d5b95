"""Who is asking, as routes declare it: the client's network, and the operator behind a
bearer token. Every feature's routes import these (access is the lowest feature)."""

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.access.identity import ClientIdentity, client_network
from app.access.operators import account_for_token, accounts_exist
from app.access.rate_limit import LoginLimits, RateLimits
from app.access.tokens import FeedbackTokens
from app.api.deps import DatabaseDep, SettingsDep, provided


def client_address(request: Request) -> str | None:
    """The client's network (an IPv4 address, an IPv6 /64): the peer, or what a trusted
    proxy forwarded (``app/api/proxies.py``). Limits and votes count clients by it."""
    return client_network(request.client.host) if request.client else None


ClientAddressDep = Annotated[str | None, Depends(client_address)]

bearer = HTTPBearer(auto_error=False, description="ADMIN_API_KEY или токен входа оператора")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def require_operator(
    settings: SettingsDep, database: DatabaseDep, credentials: BearerDep
) -> str | None:
    """Operator endpoints: ``Authorization: Bearer <ADMIN_API_KEY or a login token>``.
    Off (403) while neither a key nor any operator account exists. Returns the logged-in
    operator's username, or None for the shared admin key (it names nobody)."""
    admin_key = settings.admin_api_key
    given = credentials.credentials.encode() if credentials is not None else None
    if given is not None and admin_key and hmac.compare_digest(given, admin_key.encode()):
        return None  # the admin key is checked without touching the database
    with database.session() as session:
        if not admin_key and not accounts_exist(session):
            raise HTTPException(
                403,
                "Операторские функции отключены: задайте ADMIN_API_KEY в настройках сервиса "
                "или создайте оператора (python -m app.cli operator add ИМЯ)",
            )
        if credentials is None:
            raise HTTPException(
                401,
                "Нужен ключ оператора: заголовок Authorization: Bearer <ADMIN_API_KEY или токен "
                "входа>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        account = account_for_token(session, credentials.credentials)
        if account is None:
            raise HTTPException(
                401,
                "Неверный ключ оператора или вход истёк",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return account.username


OperatorDep = Depends(require_operator)
#: Who is acting: the logged-in operator's username, None with the admin key.
LoggedInOperatorDep = Annotated[str | None, Depends(require_operator)]

RateLimitsDep = Annotated[RateLimits, Depends(provided(RateLimits))]
LoginLimitsDep = Annotated[LoginLimits, Depends(provided(LoginLimits))]
IdentityDep = Annotated[ClientIdentity, Depends(provided(ClientIdentity))]
FeedbackTokensDep = Annotated[FeedbackTokens, Depends(provided(FeedbackTokens))]
