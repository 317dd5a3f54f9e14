"""Ports every identity capability shares: the users, the unit of work they live in,
password hashing and account mail. Each capability extends the unit of work with its own
repositories in its own ``ports``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from agora.identity.domain import User
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

    # -- administration --

    async def lock(self, user_id: UUID) -> User | None:
        """Read the user and hold its row until the unit ends (``FOR UPDATE``)."""
        ...

    async def search(self, where: UserFilter, offset: int, limit: int) -> tuple[list[User], int]:
        """One page ordered by email (unique, so pages never overlap) and the total."""
        ...

    async def lock_active_admins(self) -> list[UUID]:
        """Ids of every active admin, their rows held until the unit ends.

        Of two units that each mean to remove an admin, the second waits here and then
        counts what the first left, so the last admin cannot be removed twice over.
        """

    async def mark_email_verified(self, user_id: UUID, email: str, now: datetime) -> bool:
        """Verify the user's email if it is still ``email``; False when it is not (any more)."""
        ...


@dataclass(frozen=True, slots=True)
class UserFilter:
    """Admin search: ``q`` is matched literally (no wildcards) in the email or the name."""

    q: str | None = None
    role: Role | None = None
    is_active: bool | None = None


class IdentityUnitOfWork(UnitOfWork, Protocol):
    @property
    def users(self) -> UserRepository: ...


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


class AccountMail(Protocol):
    """Queues account emails (links to verify an address or reset a password, notices)."""

    async def queue(
        self,
        uow: UnitOfWork,
        *,
        to: str,
        subject: str,
        text: str,
        kind: str,
        user_id: UUID | None = None,
    ) -> UUID | None:
        """Queue a plain-text email in ``uow``: it is sent once the unit commits, and
        never when it rolls back. Sending (and retrying) happens elsewhere."""
        ...
