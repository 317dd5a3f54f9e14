"""Sessions: refresh-token families, their lifetimes, and what signing in hands out (pure Python).

A *session* is a family of refresh tokens: login starts one, every refresh rotates the
token inside it, and presenting a token that was already rotated means it leaked, so
the whole family is revoked (reuse detection). A browser's cookie session is a family
with a single row whose secret never rotates.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from agora.platform.errors import AuthenticationError, NotFoundError
from agora.platform.ids import new_id

REFRESH_TOKEN_BYTES = 32
MAX_USER_AGENT = 255
MAX_IP = 45


class InvalidRefreshTokenError(AuthenticationError):
    code = "INVALID_REFRESH_TOKEN"
    default_message = "The refresh token is invalid, expired or revoked; log in again."


class SessionNotFoundError(NotFoundError):
    default_message = "You have no active session with this id."


class SessionKind(StrEnum):
    """How the session's secret travels: a rotating refresh token, or a browser cookie."""

    BEARER = "bearer"
    COOKIE = "cookie"


@dataclass(frozen=True, slots=True)
class SessionLifetime:
    """A session ends when unused for ``idle`` or ``absolute`` after it began, if sooner."""

    idle: timedelta
    absolute: timedelta

    def expires_at(self, started_at: datetime, now: datetime) -> datetime:
        # Using the session slides the idle limit, never past the absolute one.
        return min(now + self.idle, started_at + self.absolute)


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """One stored session secret; only its SHA-256 is kept, never the secret itself.

    The rows of one ``family_id`` are one session: a bearer session adds a row on every
    refresh (the newest unused one is current), a cookie session keeps a single row.
    """

    id: UUID
    user_id: UUID
    family_id: UUID
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    user_agent: str | None = None
    ip: str | None = None
    # The session was opened with a second factor; rotation carries it to the next token.
    mfa: bool = False
    # When the session (the family) began; carried forward by every rotation.
    session_started_at: datetime | None = None
    last_used_at: datetime | None = None
    kind: SessionKind = SessionKind.BEARER

    @classmethod
    def issued(
        cls,
        user_id: UUID,
        family_id: UUID,
        token_hash: str,
        *,
        now: datetime,
        expires_at: datetime,
        started_at: datetime,
        mfa: bool,
        user_agent: str | None,
        ip: str | None,
        kind: SessionKind = SessionKind.BEARER,
    ) -> RefreshToken:
        """A new secret of the session, used last ``now``; the client's details cut to size."""
        return cls(
            id=new_id(),
            user_id=user_id,
            family_id=family_id,
            token_hash=token_hash,
            created_at=now,
            expires_at=expires_at,
            user_agent=(user_agent or None) and user_agent[:MAX_USER_AGENT],
            ip=(ip or None) and ip[:MAX_IP],
            mfa=mfa,
            session_started_at=started_at,
            last_used_at=now,
            kind=kind,
        )

    @property
    def started_at(self) -> datetime:
        return self.session_started_at or self.created_at

    @property
    def used_last_at(self) -> datetime:
        return self.last_used_at or self.created_at

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def is_current(self, now: datetime) -> bool:
        """The live secret of an active session: neither used up, revoked nor expired."""
        return self.used_at is None and self.revoked_at is None and now < self.expires_at

    @property
    def was_used(self) -> bool:
        return self.used_at is not None

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - a token type, not a secret


@dataclass(frozen=True, slots=True)
class SecondFactorRequired:
    """What a correct password earns a user with MFA on: a token for the second step."""

    mfa_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class CookieSession:
    """What a cookie login hands to the browser."""

    token: str  # the cookie's value: shown to the browser once, stored only as a hash
    csrf_token: str
    session_id: UUID
    expires_at: datetime  # the absolute end; an idle session ends earlier


def new_refresh_token() -> tuple[str, str]:
    """A fresh opaque token (256 random bits) and the hash under which it is stored."""
    token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    # A plain SHA-256 suffices: the token is high-entropy, so there is nothing to brute-force.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
