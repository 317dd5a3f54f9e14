"""REST routes of multi-factor authentication (TOTP): enroll, confirm, disable, log in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from agora.http import envelope
from agora.http.dependencies import CurrentPrincipal, account_security_router, use
from agora.http.schemas import Envelope, error_responses
from agora.identity.mfa.schemas import MfaCodeIn, MfaStatusOut, RecoveryCodesOut, TotpEnrollmentOut
from agora.identity.mfa.services import MfaService
from agora.identity.sessions.dependencies import SignIn
from agora.identity.sessions.schemas import MfaLoginIn, TokenPairOut
from agora.platform.request_context import current_client

router = APIRouter(prefix="/auth", tags=["auth"])
# Enrolling, confirming and disabling need a signed-in session (never an API key).
account = account_security_router()
Mfa = Annotated[MfaService, Depends(use(MfaService))]


@account.get(
    "/mfa",
    response_model=Envelope[MfaStatusOut],
    responses=error_responses(401),
    summary="Whether multi-factor authentication is on, and recovery codes left",
)
async def mfa_status(principal: CurrentPrincipal, mfa: Mfa) -> Response:
    return envelope.ok(MfaStatusOut.of(await mfa.status(principal)))


@account.post(
    "/mfa/totp/enroll",
    response_model=Envelope[TotpEnrollmentOut],
    responses=error_responses(401, 409),
    summary="Start enrolling an authenticator app (TOTP)",
    description=(
        "Returns a new secret as text, as an otpauth:// URI and as a QR code (SVG). Nothing "
        "is enabled until POST /auth/mfa/totp/confirm receives a first code; enrolling again "
        "before that replaces the secret. 409 MFA_ALREADY_ENABLED when MFA is already on."
    ),
)
async def enroll_totp(principal: CurrentPrincipal, mfa: Mfa) -> Response:
    enrollment = await mfa.enroll(principal)
    return envelope.ok(TotpEnrollmentOut.of(enrollment), headers=envelope.NO_STORE)


@account.post(
    "/mfa/totp/confirm",
    response_model=Envelope[RecoveryCodesOut],
    responses=error_responses(400, 401, 409, 422),
    summary="Enable the enrolled authenticator with its first code",
    description=(
        "Answers ten single-use recovery codes, shown this once. A wrong code is 422 "
        "INVALID_MFA_CODE and enables nothing."
    ),
)
async def confirm_totp(body: MfaCodeIn, principal: CurrentPrincipal, mfa: Mfa) -> Response:
    codes = await mfa.confirm(principal, body.code)
    return envelope.ok({"recovery_codes": codes}, headers=envelope.NO_STORE)


@account.post(
    "/mfa/totp/disable",
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 401, 409, 422, 429),
    summary="Turn multi-factor authentication off",
    description=(
        "Needs a current code from the authenticator app or an unused recovery code; the "
        "recovery codes are deleted. 429 MFA_LOCKED after too many wrong codes in a row."
    ),
)
async def disable_totp(body: MfaCodeIn, principal: CurrentPrincipal, mfa: Mfa) -> Response:
    await mfa.disable(principal, body.code)
    return Response(status_code=204)


@router.post(
    "/login/mfa",
    response_model=Envelope[TokenPairOut],
    responses=error_responses(400, 401, 422, 429),
    summary="Second login step: the MFA token and a code for an access and a refresh token",
    description=(
        "The MFA token comes from POST /auth/login; it expires after a few minutes, works "
        "once and allows five codes. The code is a TOTP or an unused recovery code. "
        "401 INVALID_MFA_CODE for a wrong code, 401 INVALID_MFA_TOKEN when the token is "
        "unknown, expired or used up (log in again), 429 MFA_LOCKED after too many wrong "
        "codes in a row."
    ),
)
async def login_mfa(body: MfaLoginIn, sign_in: SignIn) -> Response:
    user_agent, ip = current_client()
    pair = await sign_in.complete_second_factor(body.mfa_token, body.code, user_agent, ip)
    return envelope.ok(TokenPairOut.of(pair), headers=envelope.NO_STORE)


router.include_router(account)
