"""REST routes of the identity context: parse, call a service, render. No SQL, no policy."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from agora.identity.mfa_schemas import SecondFactorRequiredOut
from agora.identity.ports import UserFilter
from agora.identity.schemas import (
    AdminUserOut,
    ApiKeyCreate,
    ApiKeyOut,
    LoginIn,
    NewApiKeyOut,
    ProfileUpdate,
    RefreshIn,
    RegisterIn,
    TokenPairOut,
    UserAccessUpdate,
    UserOut,
)
from agora.identity.second_factor import SecondFactorRequired
from agora.identity.services import ApiKeyService, IdentityService, UserAdministration
from agora.platform.access import Role
from agora.platform.http import envelope
from agora.platform.http.dependencies import CurrentPrincipal, Page, use
from agora.platform.http.schemas import Envelope, error_responses

router = APIRouter(prefix="/auth", tags=["auth"])
Identity = Annotated[IdentityService, Depends(use(IdentityService))]


def _client(request: Request) -> tuple[str | None, str | None]:
    host = request.client.host if request.client else None
    return request.headers.get("user-agent"), host


@router.post(
    "/register",
    status_code=201,
    response_model=Envelope[UserOut],
    responses=error_responses(400, 409, 422),
    summary="Create a customer account",
)
async def register(body: RegisterIn, identity: Identity) -> Response:
    user = await identity.register(body.email, body.password, body.name)
    return envelope.ok(UserOut.of(user), status_code=201)


@router.post(
    "/login",
    response_model=Envelope[TokenPairOut | SecondFactorRequiredOut],
    responses=error_responses(400, 401, 422, 429),
    summary="Exchange email and password for an access and a refresh token",
    description=(
        "For an account with multi-factor authentication on, the answer holds no tokens but "
        "`{mfa_required: true, mfa_token, expires_in}`: complete the login with "
        "POST /auth/login/mfa. "
        "After repeated failures for one email (whether or not it has an account) or from "
        "one address, further attempts are refused for a growing delay: `429` "
        "`TOO_MANY_LOGIN_ATTEMPTS` with `Retry-After`."
    ),
)
async def login(body: LoginIn, request: Request, identity: Identity) -> Response:
    user_agent, ip = _client(request)
    result = await identity.login(body.email, body.password, user_agent, ip)
    data = (
        SecondFactorRequiredOut.of(result)
        if isinstance(result, SecondFactorRequired)
        else TokenPairOut.of(result)
    )
    return envelope.ok(data, headers={"Cache-Control": "no-store"})


@router.post(
    "/refresh",
    response_model=Envelope[TokenPairOut],
    responses=error_responses(400, 401, 422),
    summary="Rotate a refresh token into a new token pair",
    description="Each refresh token works once; presenting a used one revokes its session.",
)
async def refresh(body: RefreshIn, request: Request, identity: Identity) -> Response:
    user_agent, ip = _client(request)
    pair = await identity.refresh(body.refresh_token, user_agent, ip)
    return envelope.ok(TokenPairOut.of(pair), headers={"Cache-Control": "no-store"})


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 422),
    summary="End the session the refresh token belongs to",
    description="Idempotent: an unknown or already revoked token also answers 204.",
)
async def logout(body: RefreshIn, identity: Identity) -> Response:
    await identity.logout(body.refresh_token)
    return Response(status_code=204)


@router.get(
    "/profile",
    response_model=Envelope[UserOut],
    responses=error_responses(401),
    summary="The signed-in user's profile",
)
async def get_profile(principal: CurrentPrincipal, identity: Identity) -> Response:
    return envelope.ok(UserOut.of(await identity.get_profile(principal)))


@router.patch(
    "/profile",
    response_model=Envelope[UserOut],
    responses=error_responses(400, 401, 409, 422),
    summary="Change the signed-in user's name",
)
async def update_profile(
    body: ProfileUpdate, principal: CurrentPrincipal, identity: Identity
) -> Response:
    user = await identity.update_profile(principal, name=body.name, expected_version=body.version)
    return envelope.ok(UserOut.of(user))


# -- user administration (users:manage) -------------------------------------------------

users_router = APIRouter(prefix="/users", tags=["users"])
Users = Annotated[UserAdministration, Depends(use(UserAdministration))]


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

api_keys_router = APIRouter(prefix="/api-keys", tags=["api-keys"])
ApiKeys = Annotated[ApiKeyService, Depends(use(ApiKeyService))]


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
        NewApiKeyOut.with_key(stored, key), status_code=201, headers={"Cache-Control": "no-store"}
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
