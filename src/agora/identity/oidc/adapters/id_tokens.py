"""Verifying the provider's ID tokens (OpenID Connect Core 3.1.3.7) and reading who they name.

ID tokens are verified with PyJWT against the provider's JWKS: the algorithm is pinned
to the asymmetric ones the provider advertises (never ``none`` or HMAC), and ``iss``,
``aud``, ``azp``, ``exp`` and ``iat`` are checked.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jwt

from agora.identity.oidc.adapters.discovery import ProviderMetadata
from agora.identity.oidc.adapters.http import JsonHttp
from agora.identity.oidc.domain import (
    MAX_SUBJECT_LENGTH,
    OidcIdentity,
    OidcIdTokenInvalidError,
    OidcProviderUnavailableError,
)
from agora.platform.logging import get_logger

log = get_logger("agora.identity.oidc")

CLOCK_LEEWAY_SECONDS = 60


class IdTokenVerifier:
    """Checks ID tokens for one client, with the provider's signing keys kept in memory."""

    def __init__(self, client_id: str, http: JsonHttp) -> None:
        self._client_id = client_id
        self._http = http
        self._keys: list[dict[str, Any]] | None = None

    def forget_keys(self) -> None:
        """Fetch the keys again on next use (the discovery document may name new ones)."""
        self._keys = None

    async def _signing_keys(self, jwks_uri: str, *, refresh: bool) -> list[dict[str, Any]]:
        if self._keys is not None and not refresh:
            return self._keys
        answer = await self._http.call("GET", jwks_uri)
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

    async def claims(self, id_token: str, metadata: ProviderMetadata) -> dict[str, Any]:
        """The claims of ``id_token`` once its signature, issuer, audience, authorized
        party, expiry, issue time and subject check out; ``OidcIdTokenInvalidError`` if not."""
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


def identity_of(issuer: str, claims: Mapping[str, Any]) -> OidcIdentity:
    """Who the claims (of an ID token or a UserInfo answer) say the person is."""
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
