"""Signed access tokens: JWT, HS256, verified with a pinned algorithm list (PyJWT)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any
from uuid import UUID

import jwt

from agora.identity.ports import AccessClaims
from agora.platform.access import Role
from agora.platform.clock import utcnow
from agora.platform.errors import AuthenticationError
from agora.platform.ids import new_id

ALGORITHM = "HS256"
_REQUIRED = ["exp", "iat", "iss", "aud", "sub"]


def key_id(secret: str) -> str:
    """A stable, non-reversible id for the signing key (for rotation: pick the key by kid)."""
    return hmac.new(secret.encode(), b"agora-access-token-key", hashlib.sha256).hexdigest()[:16]


class JwtAccessTokens:
    def __init__(self, *, secret: str, issuer: str, audience: str, ttl_seconds: int) -> None:
        self._secret = secret
        self._kid = key_id(secret)
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl_seconds

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    def issue(self, user_id: UUID, role: Role, session_id: UUID, *, mfa: bool = False) -> str:
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
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM, headers={"kid": self._kid})

    def verify(self, token: str) -> AccessClaims:
        try:
            if jwt.get_unverified_header(token).get("kid") != self._kid:
                raise _invalid()
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": _REQUIRED},
            )
            return AccessClaims(
                user_id=UUID(claims["sub"]),
                role=Role(claims["role"]),
                session_id=UUID(claims["sid"]),
                mfa="otp" in claims.get("amr", ()),
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("The access token has expired; refresh it.") from None
        except (jwt.PyJWTError, KeyError, ValueError, TypeError, AttributeError):
            raise _invalid() from None


def _invalid() -> AuthenticationError:
    return AuthenticationError("The access token is invalid.")
