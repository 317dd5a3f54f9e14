"""REST routes of access: user administration (``users:manage``) and one's own API keys."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from agora.http import envelope
from agora.http.dependencies import CurrentPrincipal, Page, account_security_router, use
from agora.http.schemas import Envelope, error_responses
from agora.identity.access.api_keys import ApiKeyService
from agora.identity.access.schemas import (
    AdminUserOut,
    ApiKeyCreate,
    ApiKeyOut,
    NewApiKeyOut,
    UserAccessUpdate,
)
from agora.identity.access.users import UserAdministration
from agora.identity.ports import UserFilter
from agora.platform.access import Role

users_router = APIRouter(prefix="/users", tags=["users"])
# Managing one's keys needs a signed-in session (never an API key).
api_keys_router = account_security_router(prefix="/api-keys", tags=["api-keys"])
Users = Annotated[UserAdministration, Depends(use(UserAdministration))]
ApiKeys = Annotated[ApiKeyService, Depends(use(ApiKeyService))]


# -- user administration (users:manage) -------------------------------------------------


@users_router.get(
    "",
    response_model=Envelope[list[AdminUserOut]],
    responses=error_responses(401, 403, 422),
    summary="List accounts, by email (administrators)",
)
async def list_users(
    *,
    users: Users,
    principal: CurrentPrincipal,
    page: Page,
    q: Annotated[
        str | None,
        Query(max_length=100, description="Part of the email or name, any case, taken literally"),
    ] = None,
    role: Annotated[Role | None, Query()] = None,
    is_active: Annotated[bool | None, Query()] = None,
) -> Response:
    where = UserFilter(q=(q or "").strip() or None, role=role, is_active=is_active)
    found, total = await users.list_users(
        principal, where, offset=page.offset, limit=page.page_size
    )
    return envelope.ok(
        [AdminUserOut.of(user) for user in found],
        pagination=envelope.pagination(page.page, page.page_size, total),
    )


@users_router.get(
    "/{user_id}",
    response_model=Envelope[AdminUserOut],
    responses=error_responses(401, 403, 404, 422),
    summary="One account (administrators)",
)
async def get_user(user_id: UUID, users: Users, principal: CurrentPrincipal) -> Response:
    return envelope.ok(AdminUserOut.of(await users.get_user(principal, user_id)))


@users_router.patch(
    "/{user_id}",
    response_model=Envelope[AdminUserOut],
    responses=error_responses(400, 401, 403, 404, 409, 422),
    summary="Change an account's role or deactivate / reactivate it (administrators)",
    description="Deactivation ends the account's sessions and revokes its API keys. "
    "Administrators cannot demote or deactivate themselves, and the last active "
    "administrator cannot be removed (409).",
)
async def update_user(
    user_id: UUID, body: UserAccessUpdate, users: Users, principal: CurrentPrincipal
) -> Response:
    user = await users.update_user(
        principal,
        user_id,
        role=body.role,
        is_active=body.is_active,
        expected_version=body.version,
    )
    return envelope.ok(AdminUserOut.of(user))


# -- API keys ----------------------------------------------------------------------------


@api_keys_router.post(
    "",
    status_code=201,
    response_model=Envelope[NewApiKeyOut],
    responses=error_responses(400, 401, 403, 409, 422),
    summary="Create an API key (the key is shown in this response only)",
    description="Send the key as `Authorization: Bearer agora_...` or `X-API-Key: agora_...`. "
    "It acts as you, with only the listed scopes your role still has. API keys cannot "
    "manage API keys (403).",
)
async def create_api_key(
    body: ApiKeyCreate, api_keys: ApiKeys, principal: CurrentPrincipal
) -> Response:
    stored, key = await api_keys.create(
        principal, name=body.name, scopes=body.scopes, expires_at=body.expires_at
    )
    return envelope.ok(
        NewApiKeyOut.with_key(stored, key), status_code=201, headers=envelope.NO_STORE
    )


@api_keys_router.get(
    "",
    response_model=Envelope[list[ApiKeyOut]],
    responses=error_responses(401, 403),
    summary="My API keys that are not revoked, newest first (never the keys themselves)",
)
async def list_api_keys(api_keys: ApiKeys, principal: CurrentPrincipal) -> Response:
    return envelope.ok([ApiKeyOut.of(key) for key in await api_keys.list(principal)])


@api_keys_router.delete(
    "/{api_key_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422),
    summary="Revoke one of my API keys; it stops working at once",
)
async def revoke_api_key(
    api_key_id: UUID, api_keys: ApiKeys, principal: CurrentPrincipal
) -> Response:
    await api_keys.revoke(principal, api_key_id)
    return Response(status_code=204)
