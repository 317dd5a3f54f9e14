"""REST routes of the identity context: parse, call a service, render. No SQL, no policy."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Depends, Query
from starlette.responses import Response

from agora.http import envelope
from agora.http.dependencies import CurrentPrincipal, Page, account_security_router, use
from agora.http.schemas import Envelope, error_responses
from agora.identity.accounts import AccountService
from agora.identity.api_keys import ApiKeyService
from agora.identity.mfa_schemas import SecondFactorRequiredOut
from agora.identity.ports import UserFilter
from agora.identity.schemas import (
    AcceptedOut,
    AdminUserOut,
    ApiKeyCreate,
    ApiKeyOut,
    EmailTokenIn,
    LoginIn,
    NewApiKeyOut,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetRequestIn,
    ProfileUpdate,
    RefreshIn,
    RegisterIn,
    TokenPairOut,
    UserAccessUpdate,
    UserOut,
)
from agora.identity.second_factor import SecondFactorRequired
from agora.identity.services import IdentityService, normalise_email
from agora.identity.user_admin import UserAdministration
from agora.platform.access import Role
from agora.platform.request_context import current_client

router = APIRouter(prefix="/auth", tags=["auth"])
# What changes how the account signs in needs a signed-in session (never an API key).
account = account_security_router()
Identity = Annotated[IdentityService, Depends(use(IdentityService))]
Accounts = Annotated[AccountService, Depends(use(AccountService))]


@router.post(
    "/register",
    status_code=201,
    response_model=Envelope[UserOut],
    responses=error_responses(400, 409, 422),
    summary="Create a customer account",
)
async def register(
    body: RegisterIn, identity: Identity, accounts: Accounts, background: BackgroundTasks
) -> Response:
    """A link to verify the address is mailed after the response."""
    user = await identity.register(body.email, body.password, body.name)
    background.add_task(accounts.start_verification, user.id)
    return envelope.ok(UserOut.of(user), status_code=201)


@router.post(
    "/login",
    response_model=Envelope[TokenPairOut | SecondFactorRequiredOut],
    responses=error_responses(400, 401, 422, 429, 503),
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
async def login(body: LoginIn, identity: Identity) -> Response:
    user_agent, ip = current_client()
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
    responses=error_responses(400, 401, 422, 503),
    summary="Rotate a refresh token into a new token pair",
    description="Each refresh token works once; presenting a used one revokes its session.",
)
async def refresh(body: RefreshIn, identity: Identity) -> Response:
    user_agent, ip = current_client()
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

api_keys_router = account_security_router(prefix="/api-keys", tags=["api-keys"])
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


# -- email verification, password reset and change ---------------------------------------

RESET_REQUESTED = {
    "message": "If an account uses this address, a link to reset its password is on its way."
}
VERIFICATION_SENT = {"message": "A new verification link is on its way."}


@router.post(
    "/verify-email",
    response_model=Envelope[UserOut],
    responses=error_responses(400, 422),
    summary="Verify an email address with the token from the emailed link",
    description="Each token works once. An unknown, expired or used token is 422 "
    "`INVALID_EMAIL_TOKEN`.",
)
async def verify_email(body: EmailTokenIn, accounts: Accounts) -> Response:
    return envelope.ok(UserOut.of(await accounts.verify_email(body.token)))


@router.post(
    "/verify-email/resend",
    status_code=202,
    response_model=Envelope[AcceptedOut],
    responses=error_responses(401, 409, 503),
    summary="Mail a new verification link to the signed-in user",
    description="Earlier unused links stop working. 409 `EMAIL_ALREADY_VERIFIED` when "
    "there is nothing to verify; 503 when the mail server is down.",
)
async def resend_verification(principal: CurrentPrincipal, accounts: Accounts) -> Response:
    await accounts.resend_verification(principal)
    return envelope.ok(VERIFICATION_SENT, status_code=202)


@router.post(
    "/password-reset/request",
    status_code=202,
    response_model=Envelope[AcceptedOut],
    responses=error_responses(400, 422),
    summary="Ask for a password reset link",
    description="Always 202 with the same body, whether or not an account uses the "
    "address: the link is mailed after the response. Only an address that cannot exist "
    "(bad syntax) is 422.",
)
async def request_password_reset(
    body: PasswordResetRequestIn, accounts: Accounts, background: BackgroundTasks
) -> Response:
    email = normalise_email(body.email)
    background.add_task(accounts.request_password_reset, email)
    return envelope.ok(RESET_REQUESTED, status_code=202, headers={"Cache-Control": "no-store"})


@router.post(
    "/password-reset/confirm",
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 422),
    summary="Set a new password with the token from the reset link",
    description="Signs the user out everywhere (every refresh token is revoked). The "
    "token works once; 422 `INVALID_EMAIL_TOKEN` otherwise. A password the policy "
    "refuses is 422 `VALIDATION_ERROR` and leaves the token usable.",
)
async def confirm_password_reset(
    body: PasswordResetConfirmIn, accounts: Accounts, background: BackgroundTasks
) -> Response:
    user = await accounts.reset_password(body.token, body.password)
    background.add_task(accounts.notify_password_changed, user.id)
    return Response(status_code=204)


@account.post(
    "/password",
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 401, 422),
    summary="Change the signed-in user's password",
    description="Requires the current password (422 `INVALID_CURRENT_PASSWORD` when "
    "wrong). Every other session of the user ends; this one stays signed in.",
)
async def change_password(
    body: PasswordChangeIn,
    principal: CurrentPrincipal,
    accounts: Accounts,
    background: BackgroundTasks,
) -> Response:
    user = await accounts.change_password(principal, body.current_password, body.new_password)
    background.add_task(accounts.notify_password_changed, user.id)
    return Response(status_code=204)


router.include_router(account)
