"""Ports of access: the stored API keys, and the feed of accounts' current access."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from agora.identity.access.domain import AccountAccess, ApiKey
from agora.identity.domain import User
from agora.identity.sessions.ports import SessionsUnitOfWork


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None:
        """Insert; raises ``AlreadyExistsError`` when the prefix is taken (regenerate)."""
        ...

    async def find_with_owner(self, prefix: str) -> tuple[ApiKey, User] | None:
        """The key with this prefix and its owner, in one read (the authentication path)."""
        ...

    async def list_for_user(self, user_id: UUID) -> list[ApiKey]:
        """The user's keys that are not revoked, newest first."""
        ...

    async def count_usable(self, user_id: UUID, now: datetime) -> int: ...

    async def revoke(self, key_id: UUID, user_id: UUID, now: datetime) -> ApiKey | None:
        """Revoke the user's key if it is still live; None when there is none to revoke."""
        ...

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> int: ...

    async def touch(self, key_id: UUID, now: datetime, older_than: datetime) -> None:
        """Set ``last_used_at`` unless it is already more recent than ``older_than``."""
        ...


class AccessUnitOfWork(SessionsUnitOfWork, Protocol):
    """Administering accounts ends their sessions, so the sessions come along."""

    @property
    def api_keys(self) -> ApiKeyRepository: ...


AccessUnitOfWorkFactory = Callable[..., AccessUnitOfWork]
"""Called as ``factory()`` for a writing unit or ``factory(read_only=True)`` for a query."""

AccessFeed = Callable[[Collection[UUID]], Awaitable[Sequence[AccountAccess]]]
"""Returns the current access of those of the given accounts that exist."""
