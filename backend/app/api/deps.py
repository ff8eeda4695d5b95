"""Dependencies declared once and reused by name in every route."""

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.access.identity import client_network
from app.access.operators import account_for_token, accounts_exist
from app.container import Services
from app.core.config import Settings
from app.db.models import MAX_ROW_ID


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings_dep(services: ServicesDep) -> Settings:
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """The request's one unit of work: services flush, this commits once the route returned
    (before the response is sent, so a client that got an id can use it at once) and rolls
    back when it raised."""
    with services.database.transaction() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def client_address(request: Request) -> str | None:
    """The client's network (an IPv4 address, an IPv6 /64): the peer, or what a trusted
    proxy forwarded (``app/api/proxies.py``). Limits and votes count clients by it."""
    return client_network(request.client.host) if request.client else None


ClientAddressDep = Annotated[str | None, Depends(client_address)]


#: A row number in a path: the schema states the range the database can hold, so an id past
#: it is the caller's 422, and one inside it that names nothing is a 404.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Номер записи")]


bearer = HTTPBearer(auto_error=False, description="ADMIN_API_KEY или токен входа оператора")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def require_operator(services: ServicesDep, credentials: BearerDep) -> str | None:
    """Operator endpoints: ``Authorization: Bearer <ADMIN_API_KEY or a login token>``.
    Off (403) while neither a key nor any operator account exists. Returns the logged-in
    operator's username, or None for the shared admin key (it names nobody)."""
    admin_key = services.settings.admin_api_key
    given = credentials.credentials.encode() if credentials is not None else None
    if given is not None and admin_key and hmac.compare_digest(given, admin_key.encode()):
        return None  # the admin key is checked without touching the database
    with services.database.session() as session:
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
