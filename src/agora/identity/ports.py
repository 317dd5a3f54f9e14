"""Ports of the identity context: what its services need from the outside world."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from agora.identity.domain import EmailToken, EmailTokenPurpose, RefreshToken, User
from agora.platform.access import Role
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

    async def mark_email_verified(self, user_id: UUID, email: str, now: datetime) -> bool:
        """Verify the user's email if it is still ``email``; False when it is not (any more)."""
        ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None: ...

    async def mark_used(self, token_id: UUID, now: datetime) -> bool:
        """Mark an unused, unrevoked token used; False when someone else got there first."""
        ...

    async def revoke_family(self, family_id: UUID, now: datetime) -> None: ...

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None: ...

    async def revoke_other_families(
        self, user_id: UUID, keep_family_id: UUID, now: datetime
    ) -> None:
        """Revoke every session of the user except the one ``keep_family_id`` names."""
        ...


class EmailTokenRepository(Protocol):
    async def add(self, token: EmailToken) -> None: ...

    async def get_by_hash(self, token_hash: str) -> EmailToken | None: ...

    async def mark_used(self, token_id: UUID, now: datetime) -> bool:
        """Use an unused, unexpired token up; False when it is not (any more) usable.

        A conditional update: of two concurrent uses of one token, exactly one wins.
        """
        ...

    async def delete_for_user(self, user_id: UUID, purpose: EmailTokenPurpose) -> None:
        """Forget the user's tokens of ``purpose``: a new link makes older ones invalid."""
        ...


class IdentityUnitOfWork(UnitOfWork, Protocol):
    @property
    def users(self) -> UserRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...

    @property
    def email_tokens(self) -> EmailTokenRepository: ...


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


class AccessTokens(Protocol):
    """Issues and verifies short-lived signed access tokens."""

    @property
    def ttl_seconds(self) -> int: ...

    def issue(self, user_id: UUID, role: Role, session_id: UUID, *, mfa: bool = False) -> str: ...

    def verify(self, token: str) -> AccessClaims:
        """Return the claims, or raise ``AuthenticationError`` for any defect."""
        ...


class AccountMail(Protocol):
    """Sends account emails (links to verify an address or reset a password)."""

    async def send(self, to: str, subject: str, text: str) -> None:
        """Deliver a plain-text email; ``DependencyUnavailableError`` when mail is down."""
        ...
