"""REST routes for signing in with an OpenID Connect provider.

The browser goes ``/oidc/login`` -> the provider -> ``/oidc/callback``. A random,
HttpOnly, SameSite=Lax cookie set by ``/login`` ties the callback to the browser that
started the sign-in (against login CSRF); the cookie never carries a secret the server
does not also hold, and the server keeps only its hash.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from agora.http import envelope
from agora.http.dependencies import use
from agora.http.schemas import Envelope, error_responses
from agora.identity.oidc.schemas import OidcLoginOut, OidcProviderOut, OidcSecondFactorOut
from agora.identity.oidc.services import OidcLoginService
from agora.platform.errors import DomainError
from agora.platform.request_context import current_client
from agora.platform.settings import Settings

router = APIRouter(prefix="/auth/oidc", tags=["auth"])
Oidc = Annotated[OidcLoginService, Depends(use(OidcLoginService))]
AppSettings = Annotated[Settings, Depends(use(Settings))]

_LOCATION = {
    "Location": {"description": "Where the browser goes next.", "schema": {"type": "string"}}
}


def _cookie_name(settings: Settings) -> str:
    # The __Host- prefix (Secure, Path=/, no Domain) stops subdomains from planting one;
    # browsers only accept it over HTTPS, so plain-HTTP development uses a plain name.
    return "__Host-agora-oidc" if settings.is_production else "agora-oidc"


def _callback_url(request: Request, settings: Settings) -> str:
    url = str(request.url_for("oidc_callback"))
    if settings.public_url:
        return settings.public_url.rstrip("/") + urlsplit(url).path
    return url


def _redirect(location: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=302, headers={"Location": location, **envelope.NO_STORE, **(headers or {})}
    )


def _back_to(return_to: str, fragment: dict[str, Any]) -> Response:
    # In the fragment: browsers never send it to a server, so it stays out of access logs
    # and Referer headers; the front end reads it and clears it from the address bar.
    return _redirect(f"{return_to}#{urlencode(fragment)}")


@router.get(
    "",
    response_model=Envelope[OidcProviderOut],
    responses=error_responses(404),
    summary="The OpenID Connect provider customers can sign in with",
    description="404 `OIDC_NOT_CONFIGURED` when this shop has none.",
)
async def provider(request: Request, oidc: Oidc) -> Response:
    login_url = request.url_for("oidc_login").path
    return envelope.ok(OidcProviderOut.of(oidc.info(), login_url))


@router.get(
    "/login",
    name="oidc_login",
    status_code=302,
    response_class=Response,
    responses={
        302: {"description": "Off to the provider's sign-in page.", "headers": _LOCATION},
        **error_responses(404, 422, 503),
    },
    summary="Start signing in with the OpenID Connect provider",
    description=(
        "Redirects the browser to the provider (authorization code flow with PKCE, "
        "`state` and `nonce`) and sets a short-lived cookie that ties the sign-in to this "
        "browser. With `redirect_uri` (one of `AGORA_OIDC_ALLOWED_REDIRECT_URIS`) the "
        "callback sends the browser back there with the tokens in the URL fragment; "
        "without it the callback answers with JSON. 503 when the provider is unreachable."
    ),
)
async def login(
    request: Request,
    oidc: Oidc,
    settings: AppSettings,
    redirect_uri: Annotated[
        str | None,
        Query(max_length=2048, description="Allow-listed front-end address to return to."),
    ] = None,
) -> Response:
    cookie = _cookie_name(settings)
    started = await oidc.start(
        callback_url=_callback_url(request, settings),
        return_to=redirect_uri,
        browser_binding=request.cookies.get(cookie),
    )
    response = _redirect(started.authorization_url)
    response.set_cookie(
        cookie,
        started.browser_binding,
        max_age=started.max_age_seconds,
        path="/",
        secure=settings.is_production,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get(
    "/callback",
    name="oidc_callback",
    response_model=Envelope[OidcLoginOut | OidcSecondFactorOut],
    responses={
        302: {
            "description": (
                "Back to the `redirect_uri` given to /login: `#access_token=...&"
                "refresh_token=...&token_type=bearer&expires_in=...&account=...`, or "
                "`#error=<code>&error_description=...` when the sign-in failed."
            ),
            "headers": _LOCATION,
        },
        **error_responses(401, 403, 404, 409, 422, 503),
    },
    summary="Finish signing in: the provider sends the browser here",
    description=(
        "Register this address at the provider as the redirect URI. Checks the `state` "
        "(once, within 10 minutes, in the browser that started), redeems the code with "
        "the PKCE verifier, verifies the ID token (signature, issuer, audience, expiry, "
        "nonce), then signs in the linked account (an account with MFA on answers "
        "`{mfa_required: true, mfa_token}` instead of tokens, like POST /auth/login), "
        "links the account with the same "
        "email only when the provider verified that email (else 409 "
        "`OIDC_EMAIL_NOT_VERIFIED`), or opens a new customer account. "
        "401 codes: `OIDC_STATE_INVALID`, `OIDC_STATE_EXPIRED`, `OIDC_STATE_USED`, "
        "`OIDC_BROWSER_MISMATCH`, `OIDC_PROVIDER_ERROR`, `OIDC_ISSUER_MISMATCH`, "
        "`OIDC_CODE_REJECTED`, `OIDC_ID_TOKEN_INVALID`, `OIDC_EMAIL_MISSING`; 403 "
        "`ACCOUNT_DEACTIVATED`; 503 when the provider is unreachable."
    ),
)
async def callback(
    request: Request,
    oidc: Oidc,
    settings: AppSettings,
    *,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
    error_description: Annotated[str | None, Query(max_length=1024)] = None,
    iss: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    login = await oidc.claim(
        state=state, browser_binding=request.cookies.get(_cookie_name(settings))
    )
    user_agent, ip = current_client()
    try:
        result = await oidc.finish(
            login,
            code=code,
            error=error,
            error_description=error_description,
            issuer=iss,
            user_agent=user_agent,
            ip=ip,
        )
    except DomainError as exc:
        if login.return_to is None:
            raise
        return _back_to(login.return_to, {"error": exc.code, "error_description": exc.message})
    body = OidcLoginOut.of(result)
    if login.return_to is None:
        return envelope.ok(body, headers=envelope.NO_STORE)
    return _back_to(login.return_to, {k: str(v) for k, v in body.items()})
