"""Request and response shapes of user administration and API keys."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from agora.http.bounds import Version
from agora.http.schemas import RequestModel, ResponseModel
from agora.identity.access.domain import ApiKey
from agora.identity.domain import MAX_NAME_LENGTH
from agora.platform.access import Permission, Role


class AdminUserOut(ResponseModel):
    id: UUID
    email: str
    name: str
    role: Role
    is_active: bool
    email_verified: bool
    created_at: datetime
    updated_at: datetime
    version: int


class UserAccessUpdate(RequestModel):
    """What an administrator may change; anything else (``email``, ``name``...) is a 422."""

    role: Role | None = None
    is_active: bool | None = Field(
        default=None, description="false deactivates (ending every session and API key)."
    )
    version: Version | None = None


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
