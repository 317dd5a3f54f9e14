"""An OpenID Connect relying party over HTTP: discovery, code exchange, ID token checks.

The standard library's ``urllib`` does the HTTP, in a worker thread: the runtime needs
no HTTP client dependency for three kinds of small request. Redirects are never followed
and only ``http``/``https`` URLs are opened (``http`` only outside production), so a
hostile discovery document cannot point the client at local files or elsewhere.

ID tokens are verified with PyJWT against the provider's JWKS: the algorithm is pinned
to the asymmetric ones the provider advertises (never ``none`` or HMAC), and ``iss``,
``aud``, ``azp``, ``exp`` and ``iat`` are checked per OpenID Connect Core 3.1.3.7.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

import jwt

from agora.identity.oidc_domain import (
    MAX_SUBJECT_LENGTH,
    OidcCodeRejectedError,
    OidcIdentity,
    OidcIdTokenInvalidError,
    OidcProviderUnavailableError,
)
from agora.platform.logging import get_logger

log = get_logger("agora.identity.oidc")

# Asymmetric JWS algorithms only: with HMAC the client secret would be the key, and
# anyone holding it (every instance, every log that leaks it) could mint ID tokens.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
MAX_RESPONSE_BYTES = 1_048_576
METADATA_TTL_SECONDS = 3600.0
CLOCK_LEEWAY_SECONDS = 60
_REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    algorithms: frozenset[str]
    client_auth: str  # "client_secret_basic" or "client_secret_post"
    issuer_in_response: bool


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: Any  # decoded JSON, or None when the body was not JSON


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx then surfaces as an HTTPError, handled like any other status


_OPENER = urllib.request.build_opener(_NoRedirects())


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
        self._timeout = timeout_seconds
        self._schemes = ("https",) if not allow_http else ("https", "http")
        self._metadata: ProviderMetadata | None = None
        self._metadata_at = 0.0
        self._keys: list[dict[str, Any]] | None = None
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
        answer = await self._call("POST", metadata.token_endpoint, form=form, headers=headers)
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise self._token_refusal(answer)
        id_token = answer.body.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise OidcIdTokenInvalidError(reason="missing")
        claims = await self._verified_claims(id_token, metadata)
        identity = _identity(metadata.issuer, claims)
        access_token = answer.body.get("access_token")
        if identity.email is None and metadata.userinfo_endpoint and isinstance(access_token, str):
            identity = await self._with_userinfo(identity, metadata.userinfo_endpoint, access_token)
        return identity

    # -- discovery and keys -----------------------------------------------------------------

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
            answer = await self._call("GET", url)
            if answer.status != 200 or not isinstance(answer.body, dict):
                log.warning("oidc_discovery_failed", url=url, status=answer.status)
                raise OidcProviderUnavailableError("discovery")
            metadata = self._parse_metadata(answer.body)
            self._metadata, self._metadata_at = metadata, time.monotonic()
            self._keys = None  # fetched again from the (possibly new) jwks_uri
            return metadata

    def _parse_metadata(self, document: Mapping[str, Any]) -> ProviderMetadata:
        for name in _REQUIRED_METADATA:
            if not isinstance(document.get(name), str) or not document[name]:
                log.warning("oidc_discovery_incomplete", missing=name)
                raise OidcProviderUnavailableError("discovery")
        if document["issuer"] != self._issuer:
            # OpenID Connect Discovery 4.3: the document must name exactly this issuer.
            log.warning(
                "oidc_issuer_mismatch", configured=self._issuer, published=document["issuer"]
            )
            raise OidcProviderUnavailableError("issuer_mismatch")
        endpoints = [document[name] for name in _REQUIRED_METADATA[1:]]
        userinfo = document.get("userinfo_endpoint")
        if isinstance(userinfo, str) and userinfo:
            endpoints.append(userinfo)
        else:
            userinfo = None
        for endpoint in endpoints:
            if urllib.parse.urlsplit(endpoint).scheme not in self._schemes:
                log.warning("oidc_endpoint_scheme_refused", endpoint=endpoint)
                raise OidcProviderUnavailableError("discovery")
        advertised = document.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = frozenset(a for a in advertised if a in ASYMMETRIC_ALGORITHMS)
        if not algorithms:
            log.warning("oidc_no_asymmetric_algorithm", advertised=advertised)
            raise OidcProviderUnavailableError("algorithms")
        methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" in methods:
            client_auth = "client_secret_basic"
        elif "client_secret_post" in methods:
            client_auth = "client_secret_post"
        else:
            log.warning("oidc_no_client_auth_method", advertised=methods)
            raise OidcProviderUnavailableError("client_auth")
        return ProviderMetadata(
            issuer=document["issuer"],
            authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"],
            jwks_uri=document["jwks_uri"],
            userinfo_endpoint=userinfo,
            algorithms=algorithms,
            client_auth=client_auth,
            issuer_in_response=document.get("authorization_response_iss_parameter_supported")
            is True,
        )

    async def _signing_keys(self, jwks_uri: str, *, refresh: bool) -> list[dict[str, Any]]:
        if self._keys is not None and not refresh:
            return self._keys
        answer = await self._call("GET", jwks_uri)
        if answer.status != 200 or not isinstance(answer.body, dict):
            log.warning("oidc_jwks_failed", status=answer.status)
            raise OidcProviderUnavailableError("jwks")
        listed = answer.body.get("keys")
        self._keys = [
            key
            for key in (listed if isinstance(listed, list) else [])
            if isinstance(key, dict) and key.get("use", "sig") == "sig" and key.get("kty") != "oct"
        ]
        return self._keys

    async def _jwk_for(
        self, header: Mapping[str, Any], metadata: ProviderMetadata
    ) -> dict[str, Any] | None:
        kid = header.get("kid")
        for refresh in (False, True):
            # An unknown kid usually means the provider rotated its keys: fetch them once more.
            keys = await self._signing_keys(metadata.jwks_uri, refresh=refresh)
            if kid is None:
                found = keys if len(keys) == 1 else []
            else:
                found = [key for key in keys if key.get("kid") == kid]
            if len(found) == 1:
                return found[0]
        return None

    async def _verified_claims(self, id_token: str, metadata: ProviderMetadata) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise OidcIdTokenInvalidError(reason="malformed") from None
        algorithm = header.get("alg")
        if algorithm not in metadata.algorithms:
            raise OidcIdTokenInvalidError(reason="algorithm")
        jwk = await self._jwk_for(header, metadata)
        if jwk is None:
            raise OidcIdTokenInvalidError(reason="unknown_key")
        if jwk.get("alg", algorithm) != algorithm:
            raise OidcIdTokenInvalidError(reason="algorithm")
        try:
            # Built for the header's algorithm: a key of another type (an RSA key for
            # ES256, say) fails here rather than being bent to fit.
            key = jwt.PyJWK(jwk, algorithm=algorithm).key
        except jwt.PyJWTError:
            raise OidcIdTokenInvalidError(reason="algorithm") from None
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=[algorithm],
                audience=self._client_id,
                issuer=metadata.issuer,
                leeway=CLOCK_LEEWAY_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise OidcIdTokenInvalidError(reason=_reason(exc)) from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        azp = claims.get("azp")
        # Core 3.1.3.7 items 4 and 5: a token for several audiences must name us as azp.
        if (azp is not None and azp != self._client_id) or (len(audiences) > 1 and azp is None):
            raise OidcIdTokenInvalidError(reason="azp")
        if not isinstance(claims["iat"], int | float) or (
            claims["iat"] > time.time() + CLOCK_LEEWAY_SECONDS
        ):
            raise OidcIdTokenInvalidError(reason="issued_at")
        subject = claims["sub"]
        if not isinstance(subject, str) or not 0 < len(subject) <= MAX_SUBJECT_LENGTH:
            raise OidcIdTokenInvalidError(reason="subject")
        return claims

    async def _with_userinfo(
        self, identity: OidcIdentity, endpoint: str, access_token: str
    ) -> OidcIdentity:
        answer = await self._call(
            "GET", endpoint, headers={"Authorization": f"Bearer {access_token}"}
        )
        if answer.status != 200 or not isinstance(answer.body, dict):
            log.warning("oidc_userinfo_failed", status=answer.status)
            raise OidcProviderUnavailableError("userinfo")
        if answer.body.get("sub") != identity.subject:
            # Core 5.3.2: UserInfo about someone else must not be used.
            raise OidcIdTokenInvalidError(reason="userinfo_subject")
        extra = _identity(identity.issuer, answer.body)
        return OidcIdentity(
            issuer=identity.issuer,
            subject=identity.subject,
            nonce=identity.nonce,
            email=extra.email,
            email_verified=extra.email_verified,
            name=identity.name or extra.name,
        )

    # -- HTTP -----------------------------------------------------------------------------

    def _token_refusal(self, answer: _Answer) -> Exception:
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

    async def _call(
        self,
        method: str,
        url: str,
        *,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> _Answer:
        if urllib.parse.urlsplit(url).scheme not in self._schemes:
            raise OidcProviderUnavailableError("scheme")
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - scheme checked above
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            return await asyncio.to_thread(self._send, request)
        except (urllib.error.URLError, HTTPException, OSError, ValueError) as exc:
            log.warning("oidc_provider_unreachable", url=url, error=type(exc).__name__)
            raise OidcProviderUnavailableError("unreachable") from None

    def _send(self, request: urllib.request.Request) -> _Answer:
        try:
            with _OPENER.open(request, timeout=self._timeout) as response:
                return _Answer(response.status, _json(response.read(MAX_RESPONSE_BYTES + 1)))
        except urllib.error.HTTPError as exc:
            with exc:
                return _Answer(exc.code, _json(exc.read(MAX_RESPONSE_BYTES + 1)))


def _json(raw: bytes) -> Any:
    if len(raw) > MAX_RESPONSE_BYTES:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _reason(exc: jwt.PyJWTError) -> str:
    reasons: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
        (jwt.InvalidSignatureError, "signature"),
        (jwt.ExpiredSignatureError, "expired"),
        (jwt.InvalidIssuerError, "issuer"),
        (jwt.InvalidAudienceError, "audience"),
        (jwt.ImmatureSignatureError, "issued_at"),
        (jwt.MissingRequiredClaimError, "claims"),
        (jwt.InvalidAlgorithmError, "algorithm"),
        (jwt.InvalidKeyError, "algorithm"),
        (jwt.DecodeError, "malformed"),
    )
    for kind, reason in reasons:
        if isinstance(exc, kind):
            return reason
    return "invalid"


def _identity(issuer: str, claims: Mapping[str, Any]) -> OidcIdentity:
    email = claims.get("email")
    verified = claims.get("email_verified")
    nonce = claims.get("nonce")
    return OidcIdentity(
        issuer=issuer,
        subject=str(claims.get("sub", "")),
        nonce=nonce if isinstance(nonce, str) else None,
        email=email if isinstance(email, str) and email else None,
        # JSON true, or the string some providers send; anything else is "not verified".
        email_verified=verified is True or verified == "true",
        name=_name(claims),
    )


def _name(claims: Mapping[str, Any]) -> str | None:
    name = claims.get("name")
    if isinstance(name, str) and name.strip():
        return name
    parts = [claims.get("given_name"), claims.get("family_name")]
    joined = " ".join(p for p in parts if isinstance(p, str) and p.strip())
    if joined:
        return joined
    username = claims.get("preferred_username")
    return username if isinstance(username, str) and username.strip() else None
