"""Request and response shapes of the identity API (never the domain objects themselves)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from agora.identity.domain import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, TokenPair, User
from agora.identity.password_policy import MAX_LENGTH

# Bodies are bounded here; the service applies the real rules (email syntax, policy)
# so that API, CLI and seed share one set of messages.
_Email = Field(min_length=1, max_length=MAX_EMAIL_LENGTH + 10, examples=["ada@example.com"])
_Password = Field(
    min_length=1, max_length=MAX_LENGTH * 4, examples=["correct horse battery staple"]
)
_Name = Field(min_length=1, max_length=MAX_NAME_LENGTH * 2, examples=["Ada Lovelace"])
_RefreshToken = Field(min_length=1, max_length=200)


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = _Email
    password: str = _Password
    name: str = _Name


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = _Email
    password: str = _Password


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = _RefreshToken


class ProfileUpdate(BaseModel):
    """Only the name is the user's to change; anything else (``role``, ``email``) is a 422."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_LENGTH * 2)
    version: int | None = Field(
        default=None, ge=1, description="The version last read; a stale one is a 409."
    )


class UserOut(BaseModel):
    id: UUID
    email: str
    name: str
    role: str
    email_verified: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, user: User) -> dict[str, object]:
        """The response body as a plain dict (serialised directly by the envelope)."""
        return {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": user.role.value,
            "email_verified": user.email_verified,
            "created_at": user.created_at,
            "updated_at": user.updated_at,
            "version": user.version,
        }


class TokenPairOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")

    @classmethod
    def of(cls, pair: TokenPair) -> dict[str, object]:
        return {
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "token_type": pair.token_type,
            "expires_in": pair.expires_in,
        }


# -- email verification, password reset and change ---------------------------------------

_EmailToken = Field(
    min_length=1, max_length=200, description="The token from the link in the email."
)


class EmailTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = _EmailToken


class PasswordResetRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = _Email


class PasswordResetConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = _EmailToken
    password: str = _Password


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = _Password
    new_password: str = _Password


class AcceptedOut(BaseModel):
    message: str
