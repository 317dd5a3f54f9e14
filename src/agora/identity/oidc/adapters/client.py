"""An OpenID Connect relying party over HTTP, the ``OidcProvider`` port: the authorization
URL, the code exchange, and who the verified ID token (or UserInfo) says signed in.

Discovery (``discovery``), the HTTP itself (``http``) and ID-token checks (``id_tokens``)
live in modules of their own.
"""

from __future__ import annotations

import asyncio
import base64
import time
import urllib.parse

from agora.identity.oidc.adapters.discovery import ProviderMetadata, parse_metadata
from agora.identity.oidc.adapters.http import Answer, JsonHttp
from agora.identity.oidc.adapters.id_tokens import IdTokenVerifier, identity_of
from agora.identity.oidc.domain import (
    OidcCodeRejectedError,
    OidcIdentity,
    OidcIdTokenInvalidError,
    OidcProviderUnavailableError,
)
from agora.platform.logging import get_logger

log = get_logger("agora.identity.oidc")

METADATA_TTL_SECONDS = 3600.0


class HttpOidcProvider:
    """The ``OidcProvider`` port for one provider, configured by its issuer URL."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        scopes: str,
        timeout_seconds: float,
        allow_http: bool,
    ) -> None:
        self._issuer = issuer
        self._client_id = client_id
        self._client_secret = client_secret
        self._scopes = scopes
        self._http = JsonHttp(timeout_seconds=timeout_seconds, allow_http=allow_http)
        self._id_tokens = IdTokenVerifier(client_id, self._http)
        self._metadata: ProviderMetadata | None = None
        self._metadata_at = 0.0
        self._lock = asyncio.Lock()

    @property
    def issuer(self) -> str:
        return self._issuer

    # -- the port -------------------------------------------------------------------------

    async def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_challenge: str
    ) -> str:
        metadata = await self._discover()
        parts = urllib.parse.urlsplit(metadata.authorization_endpoint)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        query += [
            ("response_type", "code"),
            ("client_id", self._client_id),
            ("redirect_uri", redirect_uri),
            ("scope", self._scopes),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", code_challenge),
            ("code_challenge_method", "S256"),
        ]
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))

    async def requires_issuer_in_response(self) -> bool:
        return (await self._discover()).issuer_in_response

    async def redeem(self, *, code: str, code_verifier: str, redirect_uri: str) -> OidcIdentity:
        metadata = await self._discover()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        headers: dict[str, str] = {}
        if metadata.client_auth == "client_secret_basic":
            # RFC 6749 2.3.1: each part is form-encoded before the Basic encoding.
            pair = (
                f"{urllib.parse.quote_plus(self._client_id)}:"
                f"{urllib.parse.quote_plus(self._client_secret)}"
            )
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form |= {"client_id": self._client_id, "client_secret": self._client_secret}
        answer = await self._http.call("POST", metadata.token_endpoint, form=form, headers=headers)
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise self._token_refusal(answer)
        id_token = answer.body.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise OidcIdTokenInvalidError(reason="missing")
        claims = await self._id_tokens.claims(id_token, metadata)
        identity = identity_of(metadata.issuer, claims)
        access_token = answer.body.get("access_token")
        if identity.email is None and metadata.userinfo_endpoint and isinstance(access_token, str):
            identity = await self._with_userinfo(identity, metadata.userinfo_endpoint, access_token)
        return identity

    # -- discovery -----------------------------------------------------------------------

    async def _discover(self) -> ProviderMetadata:
        cached = self._metadata
        if cached is not None and time.monotonic() - self._metadata_at < METADATA_TTL_SECONDS:
            return cached
        async with self._lock:
            if self._metadata is not None and (
                time.monotonic() - self._metadata_at < METADATA_TTL_SECONDS
            ):
                return self._metadata
            url = self._issuer.rstrip("/") + "/.well-known/openid-configuration"
            answer = await self._http.call("GET", url)
            if answer.status != 200 or not isinstance(answer.body, dict):
                log.warning("oidc_discovery_failed", url=url, status=answer.status)
                raise OidcProviderUnavailableError("discovery")
            metadata = parse_metadata(answer.body, issuer=self._issuer, schemes=self._http.schemes)
            self._metadata, self._metadata_at = metadata, time.monotonic()
            self._id_tokens.forget_keys()  # fetched again from the (possibly new) jwks_uri
            return metadata

    async def _with_userinfo(
        self, identity: OidcIdentity, endpoint: str, access_token: str
    ) -> OidcIdentity:
        answer = await self._http.call(
            "GET", endpoint, headers={"Authorization": f"Bearer {access_token}"}
        )
        if answer.status != 200 or not isinstance(answer.body, dict):
            log.warning("oidc_userinfo_failed", status=answer.status)
            raise OidcProviderUnavailableError("userinfo")
        if answer.body.get("sub") != identity.subject:
            # Core 5.3.2: UserInfo about someone else must not be used.
            raise OidcIdTokenInvalidError(reason="userinfo_subject")
        extra = identity_of(identity.issuer, answer.body)
        return OidcIdentity(
            issuer=identity.issuer,
            subject=identity.subject,
            nonce=identity.nonce,
            email=extra.email,
            email_verified=extra.email_verified,
            name=identity.name or extra.name,
        )

    # -- token endpoint answers ------------------------------------------------------------

    def _token_refusal(self, answer: Answer) -> Exception:
        error = answer.body.get("error") if isinstance(answer.body, dict) else None
        if answer.status >= 500 or error is None:
            log.warning("oidc_token_endpoint_failed", status=answer.status)
            return OidcProviderUnavailableError("token_endpoint")
        if error in ("invalid_client", "unauthorized_client"):
            # Our credentials, not the user's sign-in: an operator must fix the settings.
            log.error(
                "oidc_client_rejected",
                error=error,
                hint="check AGORA_OIDC_CLIENT_ID and AGORA_OIDC_CLIENT_SECRET",
            )
            return OidcProviderUnavailableError("client_rejected")
        return OidcCodeRejectedError(provider_error=str(error)[:64])
