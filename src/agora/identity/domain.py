"""Identity domain: users, refresh-token sessions and the rules around them (pure Python).

A *session* is a family of refresh tokens: login starts one, every refresh rotates the
token inside it, and presenting a token that was already rotated means it leaked, so
the whole family is revoked (reuse detection).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from agora.platform.access import Role
from agora.platform.errors import AuthenticationError, PermissionDeniedError
from agora.platform.events import DomainEvent

__all__ = [
    "CsrfFailedError",
    "InvalidCredentialsError",
    "RefreshToken",
    "Role",
    "SessionKind",
    "SessionLifetime",
    "TokenPair",
    "User",
    "hash_refresh_token",
    "new_refresh_token",
    "user_registered",
]

MAX_NAME_LENGTH = 100
MAX_EMAIL_LENGTH = 254
REFRESH_TOKEN_BYTES = 32


class InvalidCredentialsError(AuthenticationError):
    """Wrong email or password; deliberately silent about which one (and about inactive users)."""

    code = "INVALID_CREDENTIALS"
    default_message = "The email or password is incorrect."


class CsrfFailedError(PermissionDeniedError):
    """A cookie-authenticated request that changes something came without the session's
    CSRF token (or with another one): it may have been forged by another site."""

    code = "CSRF_FAILED"
    default_message = (
        "This request needs the X-CSRF-Token header of your session; reload and try again."
    )


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    email: str
    name: str
    password_hash: str
    role: Role
    is_active: bool
    email_verified_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def renamed(self, name: str, now: datetime) -> User:
        return replace(self, name=name, updated_at=now, version=self.version + 1)

    def with_role(self, role: Role, now: datetime) -> User:
        return replace(self, role=role, updated_at=now, version=self.version + 1)

    def deactivated(self, now: datetime) -> User:
        return replace(self, is_active=False, updated_at=now, version=self.version + 1)


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
    # When the session (the family) began; carried forward by every rotation.
    session_started_at: datetime | None = None
    last_used_at: datetime | None = None
    kind: SessionKind = SessionKind.BEARER

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


def new_refresh_token() -> tuple[str, str]:
    """A fresh opaque token (256 random bits) and the hash under which it is stored."""
    token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    # A plain SHA-256 suffices: the token is high-entropy, so there is nothing to brute-force.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_registered(user: User) -> DomainEvent:
    return DomainEvent(
        name="identity.UserRegistered",
        aggregate_id=user.id,
        payload={"user_id": str(user.id), "email": user.email, "role": user.role.value},
    )
