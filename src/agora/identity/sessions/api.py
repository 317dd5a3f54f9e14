"""REST routes of signing in (login, refresh, logout), the browser cookie session, and
the sessions a user can see and end."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from agora.http import envelope
from agora.http.dependencies import CurrentPrincipal, account_security_router
from agora.http.schemas import Envelope, error_responses
from agora.identity.sessions.dependencies import Sessions, SignIn
from agora.identity.sessions.domain import SecondFactorRequired
from agora.identity.sessions.schemas import (
    CookieSessionOut,
    LoginIn,
    MfaLoginIn,
    RefreshIn,
    SecondFactorRequiredOut,
    SessionOut,
    TokenPairOut,
)
from agora.identity.sessions.services import SessionService
from agora.platform.clock import utcnow
from agora.platform.cookie_sessions import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from agora.platform.request_context import current_client

# Signing in with bearer tokens; the app lists it right after sign-up.
sign_in_router = APIRouter(prefix="/auth", tags=["auth"])
# The browser cookie session and the sessions of the signed-in user.
router = APIRouter(prefix="/auth", tags=["auth"])
# Listing and ending sessions need a signed-in session (never an API key).
account = account_security_router()


# -- signing in with bearer tokens ---------------------------------------------------


@sign_in_router.post(
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
async def login(body: LoginIn, sign_in: SignIn) -> Response:
    user_agent, ip = current_client()
    result = await sign_in.login(body.email, body.password, user_agent, ip)
    data = (
        SecondFactorRequiredOut.of(result)
        if isinstance(result, SecondFactorRequired)
        else TokenPairOut.of(result)
    )
    return envelope.ok(data, headers=envelope.NO_STORE)


@sign_in_router.post(
    "/refresh",
    response_model=Envelope[TokenPairOut],
    responses=error_responses(400, 401, 422, 503),
    summary="Rotate a refresh token into a new token pair",
    description="Each refresh token works once; presenting a used one revokes its session.",
)
async def refresh(body: RefreshIn, sign_in: SignIn) -> Response:
    user_agent, ip = current_client()
    pair = await sign_in.refresh(body.refresh_token, user_agent, ip)
    return envelope.ok(TokenPairOut.of(pair), headers=envelope.NO_STORE)


@sign_in_router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    responses=error_responses(400, 422),
    summary="End the session the refresh token belongs to",
    description="Idempotent: an unknown or already revoked token also answers 204.",
)
async def logout(body: RefreshIn, sign_in: SignIn) -> Response:
    await sign_in.logout(body.refresh_token)
    return Response(status_code=204)


def _set_session_cookies(response: Response, token: str, csrf: str, expires_at: datetime) -> None:
    max_age = max(0, round((expires_at - utcnow()).total_seconds()))
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, path="/", secure=True, httponly=True, samesite="lax"
    )
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=max_age, path="/", secure=True, httponly=False, samesite="lax"
    )


def _clear_session_cookies(response: Response) -> None:
    # A __Host- cookie is only replaced by one with the same Secure, Path=/ attributes.
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, path="/", secure=True, httponly=False, samesite="lax")


# -- my sessions ---------------------------------------------------------------------


@account.get(
    "/sessions",
    response_model=Envelope[list[SessionOut]],
    responses=error_responses(401),
    summary="My active sessions",
    description="One entry per signed-in device: bearer sessions (refresh tokens) and "
    "browser cookie sessions. `current` marks the one this request belongs to.",
)
async def list_sessions(principal: CurrentPrincipal, sessions: Sessions) -> Response:
    found = await sessions.list_sessions(principal)
    return envelope.ok(
        [SessionOut.of(s, principal.session_id) for s in found],
        headers=envelope.NO_STORE,
    )


@account.delete(
    "/sessions/{session_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422),
    summary="End one of my sessions",
    description="Its refresh token stops working at once and its access tokens within "
    "seconds. Another user's session, or one already ended, is a 404.",
)
async def revoke_session(
    session_id: UUID, request: Request, principal: CurrentPrincipal, sessions: Sessions
) -> Response:
    await sessions.revoke(principal, session_id)
    response = Response(status_code=204)
    if session_id == principal.session_id and request.cookies.get(SESSION_COOKIE):
        _clear_session_cookies(response)
    return response


@account.post(
    "/logout-all",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403),
    summary="End all my sessions, this one included",
)
async def logout_all(request: Request, principal: CurrentPrincipal, sessions: Sessions) -> Response:
    await sessions.revoke_all(principal)
    response = Response(status_code=204)
    if request.cookies.get(SESSION_COOKIE):
        _clear_session_cookies(response)
    return response


# -- browser cookie session -----------------------------------------------------------


@router.post(
    "/cookie-login",
    response_model=Envelope[CookieSessionOut | SecondFactorRequiredOut],
    responses=error_responses(400, 401, 422, 429, 503),
    summary="Sign in a browser: a session cookie instead of tokens",
    description=(
        "Sets the session in an HttpOnly `__Host-agora_session` cookie (Secure, "
        "SameSite=Lax, Path=/) and returns the session's CSRF token, also set in the "
        "script-readable `__Host-agora_csrf` cookie. Requests authenticated by the cookie "
        f"that change something (POST, PUT, PATCH, DELETE) must send it as `{CSRF_HEADER}`, "
        "or they are refused with 403 `CSRF_FAILED`. For an account with MFA on, the "
        "answer sets no cookie and is `{mfa_required: true, mfa_token}`: finish with "
        "POST /auth/cookie-login/mfa."
    ),
)
async def cookie_login(body: LoginIn, sign_in: SignIn, sessions: Sessions) -> Response:
    user_agent, ip = current_client()
    outcome = await sign_in.login(body.email, body.password, user_agent, ip)
    if isinstance(outcome, SecondFactorRequired):
        return envelope.ok(SecondFactorRequiredOut.of(outcome), headers=envelope.NO_STORE)
    return await _cookie_session(sessions, outcome.refresh_token, user_agent, ip)


@router.post(
    "/cookie-login/mfa",
    response_model=Envelope[CookieSessionOut],
    responses=error_responses(400, 401, 422, 429, 503),
    summary="Second step of a browser sign-in: the MFA token and a code for the cookie",
    description="Like POST /auth/login/mfa, but the session goes into the cookies that "
    "POST /auth/cookie-login describes.",
)
async def cookie_login_mfa(body: MfaLoginIn, sign_in: SignIn, sessions: Sessions) -> Response:
    user_agent, ip = current_client()
    pair = await sign_in.complete_second_factor(body.mfa_token, body.code, user_agent, ip)
    return await _cookie_session(sessions, pair.refresh_token, user_agent, ip)


async def _cookie_session(
    sessions: SessionService, refresh_token: str, user_agent: str | None, ip: str | None
) -> Response:
    session = await sessions.open_cookie_session(refresh_token, user_agent, ip)
    response = envelope.ok(CookieSessionOut.of(session), headers=envelope.NO_STORE)
    _set_session_cookies(response, session.token, session.csrf_token, session.expires_at)
    return response


@router.post(
    "/cookie-logout",
    status_code=204,
    response_class=Response,
    responses=error_responses(403),
    summary="Sign a browser out: end the cookie session and clear its cookies",
    description=f"Needs the `{CSRF_HEADER}` header while the session is live; "
    "without a live session it only clears the cookies.",
)
async def cookie_logout(request: Request, sessions: Sessions) -> Response:
    await sessions.end_cookie_session(
        request.cookies.get(SESSION_COOKIE), request.headers.get(CSRF_HEADER)
    )
    response = Response(status_code=204)
    _clear_session_cookies(response)
    return response


router.include_router(account)
