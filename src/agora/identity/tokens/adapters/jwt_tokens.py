"""Signed access tokens: JWT (RFC 9068 profile), ES256, verified with a pinned algorithm.

The header names the key (``kid``) and the type ``at+jwt``; verification accepts only
ES256 with the public key the kid names, so ``alg: none``, an HMAC token keyed with
the public key (algorithm confusion) or a token of another JWT type never passes.

Verifying an ECDSA signature costs far more than the rest of a request's
authentication, and a client presents the same token on every request until it
expires, so verified tokens are remembered (bounded, per process): a repeat costs a
dictionary lookup and an expiry check. The cache is dropped whenever a key stops
verifying, and only tokens that verified are ever stored in it.
"""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from typing import Any
from uuid import UUID

import jwt
import orjson

from agora.identity.tokens.adapters.key_material import ALGORITHM
from agora.identity.tokens.adapters.key_ring import KeyRing
from agora.identity.tokens.ports import AccessClaims, UnknownSigningKeyError
from agora.platform.access import Role
from agora.platform.clock import utcnow
from agora.platform.errors import AuthenticationError
from agora.platform.ids import new_id

TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type (RFC 9068), not a secret
_REQUIRED = ["exp", "iat", "iss", "aud", "sub"]
DEFAULT_CACHE_SIZE = 10_000
MAX_HEADER_LENGTH = 512


class JwtAccessTokens:
    def __init__(
        self,
        keys: KeyRing,
        *,
        issuer: str,
        audience: str,
        ttl_seconds: int,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl_seconds
        self._cache_size = cache_size
        # token -> (claims, expiry in epoch seconds)
        self._verified: dict[str, tuple[AccessClaims, float]] = {}
        self._generation = keys.generation

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    @property
    def keys(self) -> KeyRing:
        return self._keys

    def issue(self, user_id: UUID, role: Role, session_id: UUID, *, mfa: bool = False) -> str:
        kid, private_key = self._keys.signer()
        now = utcnow()
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "role": role.value,
            "sid": str(session_id),
            "iat": now,
            "exp": now + timedelta(seconds=self._ttl),
            "jti": new_id().hex,
            # RFC 8176 authentication methods: what the session was opened with.
            "amr": ["pwd", "otp"] if mfa else ["pwd"],
        }
        return jwt.encode(
            claims, private_key, algorithm=ALGORITHM, headers={"kid": kid, "typ": TOKEN_TYPE}
        )

    def verify(self, token: str) -> AccessClaims:
        if self._generation != self._keys.generation:
            self._verified.clear()
            self._generation = self._keys.generation
        remembered = self._verified.get(token)
        if remembered is not None:
            if time.time() < remembered[1]:
                return remembered[0]
            del self._verified[token]
            raise _expired()
        claims, expires = self._verify_signed(token)
        if len(self._verified) >= self._cache_size:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (claims, expires)
        return claims

    async def sync_keys(self, *, unknown_kid: bool = False) -> None:
        await self._keys.sync_if_due(unknown_kid=unknown_kid)

    def _verify_signed(self, token: str) -> tuple[AccessClaims, float]:
        try:
            kid = _unverified_kid(token)
            public_key = self._keys.public_key(kid)
            if public_key is None:
                raise UnknownSigningKeyError()
            verified = jwt.decode_complete(
                token,
                public_key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": _REQUIRED},
            )
            # PyJWT parsed the header strictly; it must say what the quick look saw.
            header, claims = verified["header"], verified["payload"]
            if header.get("kid") != kid or header.get("typ") != TOKEN_TYPE:
                raise _invalid()
            amr = claims.get("amr")
            access = AccessClaims(
                user_id=UUID(claims["sub"]),
                role=Role(claims["role"]),
                session_id=UUID(claims["sid"]),
                mfa=isinstance(amr, list) and "otp" in amr,
            )
            return access, float(claims["exp"])
        except jwt.ExpiredSignatureError:
            raise _expired() from None
        # ValueError also covers bad base64 (binascii.Error) and bad JSON in the header.
        except (jwt.PyJWTError, KeyError, ValueError, TypeError, AttributeError):
            raise _invalid() from None


def _unverified_kid(token: str) -> str:
    """The ``kid`` from the header, to pick the key; a quick look, verified afterwards.

    PyJWT's own header parser checks every character in Python; running it here and
    again inside ``decode_complete`` would cost a fifth of a verification.
    """
    segment = token.split(".", 1)[0]
    if len(segment) > MAX_HEADER_LENGTH:
        raise _invalid()
    header = orjson.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    kid = header.get("kid") if isinstance(header, dict) else None
    if not isinstance(kid, str) or header.get("typ") != TOKEN_TYPE:
        raise _invalid()
    return kid


def _expired() -> AuthenticationError:
    return AuthenticationError("The access token has expired; refresh it.")


def _invalid() -> AuthenticationError:
    return AuthenticationError("The access token is invalid.")
