"""Identity domain: users, refresh-token sessions and the rules around them (pure Python).

A *session* is a family of refresh tokens: login starts one, every refresh rotates the
token inside it, and presenting a token that was already rotated means it leaked, so
the whole family is revoked (reuse detection).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from agora.platform.access import Permission, Role
from agora.platform.errors import AuthenticationError, PermissionDeniedError, ValidationError
from agora.platform.events import DomainEvent

__all__ = [
    "ApiKey",
    "CsrfFailedError",
    "EmailToken",
    "EmailTokenPurpose",
    "InvalidCredentialsError",
    "InvalidEmailTokenError",
    "RefreshToken",
    "Role",
    "SessionKind",
    "SessionLifetime",
    "TokenPair",
    "User",
    "hash_email_token",
    "hash_refresh_token",
    "new_email_token",
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

    @property
    def is_active_admin(self) -> bool:
        return self.is_active and self.role is Role.ADMIN

    def with_access(self, role: Role, is_active: bool, now: datetime) -> User:
        """Role and activation set by an administrator, as one versioned change."""
        if (role, is_active) == (self.role, self.is_active):
            return self
        return replace(
            self, role=role, is_active=is_active, updated_at=now, version=self.version + 1
        )


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


# -- API keys ---------------------------------------------------------------------------
#
# A key reads ``agora_<prefix>_<secret>``: the fixed ``agora_`` marks it as an API key (so
# the authenticator can route it without trying it as a JWT, and secret scanners can find
# leaked ones), the prefix is the public handle under which it is stored and shown, and
# the secret carries 256 random bits. Only the SHA-256 of the whole key is stored.

API_KEY_MARKER = "agora_"
API_KEY_PREFIX_LENGTH = 8
API_KEY_SECRET_LENGTH = 43  # base62: 43 characters carry just over 256 bits
MAX_API_KEY_NAME_LENGTH = 100
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits
_API_KEY_LENGTH = len(API_KEY_MARKER) + API_KEY_PREFIX_LENGTH + 1 + API_KEY_SECRET_LENGTH


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: UUID
    user_id: UUID
    name: str
    prefix: str
    key_hash: str
    scopes: frozenset[Permission]
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_usable(self, now: datetime) -> bool:
        return not self.is_revoked and not self.is_expired(now)

    def matches(self, key: str) -> bool:
        """Constant-time comparison of the presented key with the stored hash."""
        return hmac.compare_digest(self.key_hash, hash_api_key(key))


def is_api_key(credential: str) -> bool:
    """Whether ``credential`` is meant as an API key (JWTs never start with the marker)."""
    return credential.startswith(API_KEY_MARKER)


def api_key_prefix(credential: str) -> str | None:
    """The lookup prefix of a well-formed key; None for anything malformed."""
    if len(credential) != _API_KEY_LENGTH or not is_api_key(credential):
        return None
    start = len(API_KEY_MARKER)
    prefix = credential[start : start + API_KEY_PREFIX_LENGTH]
    separator = credential[start + API_KEY_PREFIX_LENGTH]
    secret = credential[start + API_KEY_PREFIX_LENGTH + 1 :]
    if (
        separator != "_"
        or any(c not in _PREFIX_ALPHABET for c in prefix)
        or any(c not in _SECRET_ALPHABET for c in secret)
    ):
        return None
    return prefix


def new_api_key() -> tuple[str, str, str]:
    """A fresh key, its public prefix and the hash under which it is stored."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(API_KEY_PREFIX_LENGTH))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(API_KEY_SECRET_LENGTH))
    key = f"{API_KEY_MARKER}{prefix}_{secret}"
    return key, prefix, hash_api_key(key)


def hash_api_key(key: str) -> str:
    # Like refresh tokens: 256 random bits leave nothing to brute-force, so a fast hash
    # is enough and keeps verification cheap on every request.
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


# -- one-time email tokens (verification, password reset) ---------------------------------


class EmailTokenPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose, not a secret


class InvalidEmailTokenError(ValidationError):
    """Unknown, expired or already used: one answer, so a token reveals nothing."""

    code = "INVALID_EMAIL_TOKEN"
    default_message = "This link is invalid, has expired or was already used; ask for a new one."

    def __init__(self) -> None:
        super().__init__(field="token")


@dataclass(frozen=True, slots=True)
class EmailToken:
    """A single-use token mailed to ``email``; only its SHA-256 is stored."""

    id: UUID
    user_id: UUID
    purpose: EmailTokenPurpose
    email: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


def new_email_token() -> tuple[str, str]:
    """A fresh one-time token (256 random bits, URL-safe) and the hash it is stored under."""
    return new_refresh_token()


def hash_email_token(token: str) -> str:
    return hash_refresh_token(token)
