"""Ports of access tokens: issuing and verifying them, and the signing keys behind them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from agora.platform.access import Role
from agora.platform.errors import AuthenticationError
from agora.platform.unit_of_work import UnitOfWork


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


class RevokedSessionIds(Protocol):
    """Sessions ended while their access tokens may still live (``RevokedSessions``)."""

    async def poll_if_due(self) -> None:
        """Learn of sessions revoked elsewhere, when the poll interval has passed."""
        ...

    def __contains__(self, session_id: object) -> bool: ...


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

    async def rotate(
        self,
        *,
        drop_previous: bool = False,
        before_commit: Callable[[KeyRotation], Awaitable[None]] | None = None,
    ) -> KeyRotation:
        """Make a new key the active one; the previous one keeps verifying its tokens until
        they expire, unless ``drop_previous`` (a leaked key) removes every older key now.
        ``before_commit`` runs inside the rotation's transaction (its audit record)."""
        ...

    async def list_keys(self) -> Sequence[SigningKeyInfo]: ...

    async def public_jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set of the keys that verify tokens (public parts only)."""
        ...


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A signing key as stored: the public key in PEM, the private key encrypted."""

    kid: str
    algorithm: str
    public_key_pem: str
    private_key_encrypted: str
    active: bool
    created_at: datetime
    retired_at: datetime | None


class SigningKeyStore(Protocol):
    """The stored signing keys, read and changed inside the caller's unit of work."""

    async def load(self) -> list[StoredKey]:
        """Every stored key, oldest first."""
        ...

    async def has_active(self) -> bool: ...

    async def add(self, key: StoredKey) -> None:
        """Insert; raises ``AlreadyExistsError`` when ``key`` would be a second active key
        (a concurrent first start or rotation activated another one)."""
        ...

    async def retire_active(self, now: datetime) -> list[str]:
        """Retire the active key as of ``now``; returns the kids retired."""
        ...

    async def delete_retired_before(self, before: datetime) -> list[str]:
        """Delete the keys retired before ``before``; returns their kids."""
        ...

    async def delete_all(self) -> list[str]:
        """Delete every key; returns their kids."""
        ...


class SigningKeysUnitOfWork(UnitOfWork, Protocol):
    @property
    def signing_keys(self) -> SigningKeyStore: ...


SigningKeysUnitOfWorkFactory = Callable[..., SigningKeysUnitOfWork]
"""Called as ``factory()`` for a writing unit or ``factory(read_only=True)`` for a query."""
