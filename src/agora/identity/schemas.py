"""Request and response shapes of the identity API (never the domain objects themselves)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from agora.http.bounds import Version
from agora.http.schemas import RequestModel
from agora.identity.domain import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, ApiKey, TokenPair, User
from agora.identity.password_policy import MAX_LENGTH
from agora.platform.access import Permission, Role

# Bodies are bounded here; the service applies the real rules (email syntax, policy)
# so that API, CLI and seed share one set of messages.
_Email = Field(min_length=1, max_length=MAX_EMAIL_LENGTH + 10, examples=["ada@example.com"])
_Password = Field(
    min_length=1, max_length=MAX_LENGTH * 4, examples=["correct horse battery staple"]
)
_Name = Field(min_length=1, max_length=MAX_NAME_LENGTH * 2, examples=["Ada Lovelace"])
_RefreshToken = Field(min_length=1, max_length=200)


class RegisterIn(RequestModel):
    email: str = _Email
    password: str = _Password
    name: str = _Name


class LoginIn(RequestModel):
    email: str = _Email
    password: str = _Password


class RefreshIn(RequestModel):
    refresh_token: str = _RefreshToken


class ProfileUpdate(RequestModel):
    """Only the name is the user's to change; anything else (``role``, ``email``) is a 422."""

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_LENGTH * 2)
    version: Version | None = None


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


# -- user administration ------------------------------------------------------------------


class AdminUserOut(BaseModel):
    id: UUID
    email: str
    name: str
    role: Role
    is_active: bool
    email_verified: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, user: User) -> dict[str, object]:
        return {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": user.role.value,
            "is_active": user.is_active,
            "email_verified": user.email_verified,
            "created_at": user.created_at,
            "updated_at": user.updated_at,
            "version": user.version,
        }


class UserAccessUpdate(RequestModel):
    """What an administrator may change; anything else (``email``, ``name``...) is a 422."""

    role: Role | None = None
    is_active: bool | None = Field(
        default=None, description="false deactivates (ending every session and API key)."
    )
    version: Version | None = None


# -- API keys -------------------------------------------------------------------------------


class ApiKeyCreate(RequestModel):
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH * 2, examples=["Warehouse sync"])
    scopes: list[Permission] = Field(
        max_length=len(Permission) * 2,
        description="Permissions the key carries, each one your role must have; "
        "an empty list lets the key act only on your own data.",
        examples=[["catalog:write"]],
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the key stops working; omitted, it never expires."
    )


class ApiKeyOut(BaseModel):
    id: UUID
    prefix: str = Field(description="The public part of the key, to recognise it by.")
    name: str
    scopes: list[Permission]
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None = Field(description="Updated at most once a minute.")

    @classmethod
    def of(cls, key: ApiKey) -> dict[str, object]:
        return {
            "id": key.id,
            "prefix": key.prefix,
            "name": key.name,
            "scopes": sorted(scope.value for scope in key.scopes),
            "expires_at": key.expires_at,
            "created_at": key.created_at,
            "last_used_at": key.last_used_at,
        }


class NewApiKeyOut(ApiKeyOut):
    key: str = Field(description="The key itself, shown this once and never again.")

    @classmethod
    def with_key(cls, stored: ApiKey, key: str) -> dict[str, object]:
        return {**ApiKeyOut.of(stored), "key": key}


# -- email verification, password reset and change ---------------------------------------

_EmailToken = Field(
    min_length=1, max_length=200, description="The token from the link in the email."
)


class EmailTokenIn(RequestModel):
    token: str = _EmailToken


class PasswordResetRequestIn(RequestModel):
    email: str = _Email


class PasswordResetConfirmIn(RequestModel):
    token: str = _EmailToken
    password: str = _Password


class PasswordChangeIn(RequestModel):
    current_password: str = _Password
    new_password: str = _Password


class AcceptedOut(BaseModel):
    message: str
