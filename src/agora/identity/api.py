"""REST routes of the identity context: parse, call a service, render. No SQL, no policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from agora.identity.schemas import (
    LoginIn,
    ProfileUpdate,
    RefreshIn,
    RegisterIn,
    TokenPairOut,
    UserOut,
)
from agora.identity.services import IdentityService
from agora.platform.http import envelope
from agora.platform.http.dependencies import CurrentPrincipal, use
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
    response_model=Envelope[TokenPairOut],
    responses=error_responses(400, 401, 422, 503),
    summary="Exchange email and password for an access and a refresh token",
)
async def login(body: LoginIn, request: Request, identity: Identity) -> Response:
    user_agent, ip = _client(request)
    pair = await identity.login(body.email, body.password, user_agent, ip)
    return envelope.ok(TokenPairOut.of(pair), headers={"Cache-Control": "no-store"})


@router.post(
    "/refresh",
    response_model=Envelope[TokenPairOut],
    responses=error_responses(400, 401, 422, 503),
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
