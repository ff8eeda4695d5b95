"""Operator login with an account (``python -m app.cli operator add NAME``): the token it
returns is used like the admin key, ``Authorization: Bearer <token>``."""

from fastapi import APIRouter, HTTPException, Response

from app.access.deps import BearerDep, ClientAddressDep, LoginLimitsDep
from app.access.operators import LoginFailedError, log_in, log_out
from app.access.schemas import LoginRequest, LoginResponse
from app.api.deps import SessionDep, SettingsDep
from app.api.schemas import error_responses

router = APIRouter(prefix="/api/voice/auth", tags=["auth"])


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={
        401: error_responses(401)[401] | {"description": "Неверное имя или пароль"},
        429: error_responses(429)[429],
    },
    summary="Вход оператора по имени и паролю",
)
def login(
    body: LoginRequest,
    limits: LoginLimitsDep,
    settings: SettingsDep,
    session: SessionDep,
    client: ClientAddressDep,
) -> LoginResponse:
    """Throttled per address and per username before the password is even looked at."""
    limits.check(client, body.username.strip().lower())
    hours = settings.operator_session_hours
    try:
        result = log_in(session, body.username, body.password, hours)
    except LoginFailedError as error:
        raise HTTPException(401, str(error)) from error
    return LoginResponse(token=result.token, username=result.username, expires_at=result.expires_at)


@router.post(
    "/logout",
    status_code=204,
    responses=error_responses(401),
    summary="Выход: токен перестаёт действовать",
)
def logout(session: SessionDep, credentials: BearerDep) -> Response:
    """Only a live login can be ended: without a token, or with one that names no login,
    the answer is 401, like every operator call."""
    if credentials is None or not log_out(session, credentials.credentials):
        raise HTTPException(
            401, "Нужен действующий токен входа: заголовок Authorization: Bearer <токен>",
            headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    return Response(status_code=204)
