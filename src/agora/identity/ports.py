"""Ports of the identity context: what its services need from the outside world."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from agora.identity.domain import RefreshToken, User
from agora.platform.access import Role
from agora.platform.errors import AuthenticationError
from agora.platform.unit_of_work import UnitOfWork


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Insert; raises ``AlreadyExistsError`` when the email is taken."""
        ...

    async def get(self, user_id: UUID) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...

    async def update(self, user: User, expected_version: int) -> None:
        """Write ``user`` if the stored version is still ``expected_version``.

        Raises ``StaleVersionError`` otherwise.
        """
        ...

    async def set_password_hash(self, user_id: UUID, password_hash: str) -> None: ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None: ...

    async def mark_used(self, token_id: UUID, now: datetime) -> bool:
        """Mark an unused, unrevoked token used; False when someone else got there first."""
        ...

    async def revoke_family(self, family_id: UUID, now: datetime) -> None: ...

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None: ...

    async def list_current(self, user_id: UUID, now: datetime) -> Sequence[RefreshToken]:
        """The live secret of each of the user's active sessions, most recently used first."""
        ...

    async def touch(self, token_id: UUID, now: datetime, expires_at: datetime) -> None:
        """Record a use of a cookie session: last used now, idle limit moved on."""
        ...

    async def revoked_since(self, since: datetime) -> Sequence[tuple[UUID, datetime]]:
        """``(family_id, revoked_at)`` of every session revoked at or after ``since``."""
        ...


class IdentityUnitOfWork(UnitOfWork, Protocol):
    @property
    def users(self) -> UserRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...


IdentityUnitOfWorkFactory = Callable[..., IdentityUnitOfWork]
"""Called as ``factory()`` for a writing unit or ``factory(read_only=True)`` for a query."""


class PasswordHasher(Protocol):
    """Slow, salted password hashing; the async methods keep the event loop free."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """True when ``password`` matches; never raises for a mismatch or a bad hash."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""
        ...

    @property
    def dummy_hash(self) -> str:
        """A hash of a random password with the current parameters, for equal-time failures."""
        ...


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: UUID
    role: Role
    session_id: UUID
    # True when the session was opened with a second factor (the token's ``amr`` claim).
    mfa: bool = False


class UnknownSigningKeyError(AuthenticationError):
    """The token names a signing key this process has not loaded (perhaps not yet)."""

    default_message = "The access token is invalid."


class AccessTokens(Protocol):
    """Issues and verifies short-lived signed access tokens."""

    @property
    def ttl_seconds(self) -> int: ...

    def issue(self, user_id: UUID, role: Role, session_id: UUID, *, mfa: bool = False) -> str: ...

    def verify(self, token: str) -> AccessClaims:
        """Return the claims, or raise ``AuthenticationError`` for any defect.

        Raises ``UnknownSigningKeyError`` when the token names a key not loaded here.
        """
        ...

    async def sync_keys(self, *, unknown_kid: bool = False) -> None:
        """Re-read the signing keys when the refresh interval has passed.

        ``unknown_kid``: a token named a key not loaded here (another process may have
        rotated); re-read now, unless that was done very recently (throttled).
        Cheap when nothing is due: it is called on every authenticated request.
        """
        ...


@dataclass(frozen=True, slots=True)
class SigningKeyInfo:
    """One signing key as operators see it; never the private key."""

    kid: str
    algorithm: str
    created_at: datetime
    retired_at: datetime | None
    # "active" signs and verifies; "verifying" is retired but its tokens may still live;
    # "expired" is retired past the retention window and verifies nothing.
    state: str
    verifies_until: datetime | None


@dataclass(frozen=True, slots=True)
class KeyRotation:
    new: SigningKeyInfo
    retired: Sequence[str]
    dropped: Sequence[str]


class SigningKeys(Protocol):
    """The set of access-token signing keys, shared by every process through the store."""

    async def rotate(self, *, drop_previous: bool = False) -> KeyRotation:
        """Make a new key the active one; the previous one keeps verifying its tokens until
        they expire, unless ``drop_previous`` (a leaked key) removes every older key now."""
        ...

    async def list_keys(self) -> Sequence[SigningKeyInfo]: ...

    async def public_jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set of the keys that verify tokens (public parts only)."""
        ...
