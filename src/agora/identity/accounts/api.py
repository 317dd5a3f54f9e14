"""REST routes of accounts: sign-up, the profile, email verification, and resetting or
changing the password. Parse, call a service, render; no SQL, no policy."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from agora.http import envelope
from agora.http.dependencies import CurrentPrincipal, account_security_router
from agora.http.schemas import Envelope, error_responses
from agora.identity.accounts.dependencies import Accounts, Registration
from agora.identity.accounts.schemas import (
    AcceptedOut,
    EmailTokenIn,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetRequestIn,
    ProfileUpdate,
    RegisterIn,
    UserOut,
)
from agora.identity.domain import normalise_email

# Sign-up; the app lists it first, then signing in, then the rest of the account.
sign_up_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(prefix="/auth", tags=["auth"])
# What changes how the account signs in needs a signed-in session (never an API key).
account = account_security_router()


@sign_up_router.post(
    "/register",
    status_code=201,
    response_model=Envelope[UserOut],
    responses=error_responses(400, 409, 422),
    summary="Create a customer account",
)
async def register(body: RegisterIn, registration: Registration, accounts: Accounts) -> Response:
    """A link to verify the address is queued for mailing (retried while mail is down)."""
    user = await registration.register(body.email, body.password, body.name)
    await accounts.start_verification(user.id)
    return envelope.ok(UserOut.of(user), status_code=201)


@router.get(
    "/profile",
    response_model=Envelope[UserOut],
    responses=error_responses(401),
    summary="The signed-in user's profile",
)
async def get_profile(principal: CurrentPrincipal, registration: Registration) -> Response:
    return envelope.ok(UserOut.of(await registration.get_profile(principal)))


@router.patch(
    "/profile",
    response_model=Envelope[UserOut],
    responses=error_responses(400, 401, 409, 422),
    summary="Change the signed-in user's name",
)
async def update_profile(
    body: ProfileUpdate, principal: CurrentPrincipal, registration: Registration
) -> Response:
    user = await registration.update_profile(
        principal, name=body.name, expected_version=body.version
    )
    return envelope.ok(UserOut.of(user))


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
    responses=error_responses(401, 409),
    summary="Mail a new verification link to the signed-in user",
    description="Earlier unused links stop working. 409 `EMAIL_ALREADY_VERIFIED` when "
    "there is nothing to verify. The link is queued: it goes out when the mail server "
    "takes it, retried while it is down.",
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
    "address: the request is kept and the link mailed by the events backbone, so neither "
    "the answer nor its timing depends on the account. Only an address that cannot exist "
    "(bad syntax) is 422.",
)
async def request_password_reset(body: PasswordResetRequestIn, accounts: Accounts) -> Response:
    email = normalise_email(body.email)
    await accounts.ask_password_reset(email)
    return envelope.ok(RESET_REQUESTED, status_code=202, headers=envelope.NO_STORE)


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
async def confirm_password_reset(body: PasswordResetConfirmIn, accounts: Accounts) -> Response:
    await accounts.reset_password(body.token, body.password)
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
) -> Response:
    await accounts.change_password(principal, body.current_password, body.new_password)
    return Response(status_code=204)


router.include_router(account)
