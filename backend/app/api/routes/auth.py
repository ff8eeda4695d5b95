"""Operator login with an account (``python -m app.cli operator add NAME``): the token it
returns is used like the admin key, ``Authorization: Bearer <token>``."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from app.access.operators import LoginFailedError, log_in, log_out
from app.api.deps import ServicesDep, bearer
from app.api.schemas import ErrorResponse

router = APIRouter(prefix="/api/voice/auth", tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=100, examples=["irina"])
    password: str = Field(min_length=1, max_length=1000)


class LoginResponse(BaseModel):
    token: str = Field(description="Bearer-токен для операторских функций")
    username: str
    expires_at: datetime


@router.post(
    "/login",
    response_model=LoginResponse,
    responses={401: {"model": ErrorResponse, "description": "Неверное имя или пароль"}},
    summary="Вход оператора по имени и паролю",
)
def login(body: LoginRequest, services: ServicesDep) -> LoginResponse:
    with services.database.session() as session:
        try:
            result = log_in(
                session, body.username, body.password, services.settings.operator_session_hours
            )
        except LoginFailedError as error:
            raise HTTPException(401, str(error)) from error
    return LoginResponse(token=result.token, username=result.username, expires_at=result.expires_at)


@router.post("/logout", status_code=204, summary="Выход: токен перестаёт действовать")
def logout(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Response:
    if credentials is not None:
        with services.database.session() as session:
            log_out(session, credentials.credentials)
    return Response(status_code=204)
