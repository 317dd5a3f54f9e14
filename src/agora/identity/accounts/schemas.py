"""Request and response shapes of the accounts API (never the domain objects themselves)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from agora.http.bounds import Version
from agora.http.schemas import RequestModel, ResponseModel
from agora.identity.domain import MAX_NAME_LENGTH
from agora.identity.sessions.schemas import EMAIL, PASSWORD

_Name = Field(min_length=1, max_length=MAX_NAME_LENGTH * 2, examples=["Ada Lovelace"])


class RegisterIn(RequestModel):
    email: str = EMAIL
    password: str = PASSWORD
    name: str = _Name


class ProfileUpdate(RequestModel):
    """Only the name is the user's to change; anything else (``role``, ``email``) is a 422."""

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_LENGTH * 2)
    version: Version | None = None


class UserOut(ResponseModel):
    id: UUID
    email: str
    name: str
    role: str
    email_verified: bool
    created_at: datetime
    updated_at: datetime
    version: int


# -- email verification, password reset and change ---------------------------------------

_EmailToken = Field(
    min_length=1, max_length=200, description="The token from the link in the email."
)


class EmailTokenIn(RequestModel):
    token: str = _EmailToken


class PasswordResetRequestIn(RequestModel):
    email: str = EMAIL


class PasswordResetConfirmIn(RequestModel):
    token: str = _EmailToken
    password: str = PASSWORD


class PasswordChangeIn(RequestModel):
    current_password: str = PASSWORD
    new_password: str = PASSWORD


class AcceptedOut(BaseModel):
    message: str
