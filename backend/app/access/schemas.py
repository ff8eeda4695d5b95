"""Bodies of operator login."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.api.schemas import PLAIN_TEXT


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=100, pattern=PLAIN_TEXT, examples=["irina"])
    password: str = Field(min_length=1, max_length=1000)


class LoginResponse(BaseModel):
    token: str = Field(description="Bearer-токен для операторских функций")
    username: str
    expires_at: datetime
