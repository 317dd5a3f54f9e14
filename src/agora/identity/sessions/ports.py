"""Ports of sessions: the stored refresh tokens, the login throttle, and the hooks signing
in hands over to (the second factor, the account's current access)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from agora.identity.domain import User
from agora.identity.ports import IdentityUnitOfWork
from agora.identity.sessions.domain import RefreshToken, SecondFactorRequired
from agora.platform.access import Principal


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def get_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> RefreshToken | None:
        """``for_update`` holds the row until the unit ends: concurrent users of one token
        then queue on it, rather than each locking family rows in its own order."""
        ...

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

    async def revoke_other_families(
        self, user_id: UUID, keep_family_id: UUID, now: datetime
    ) -> None:
        """Revoke every session of the user except the one ``keep_family_id`` names."""
        ...

    async def delete_ended(self, before: datetime) -> int:
        """Delete rows that expired before ``before`` and were not revoked after it; how
        many went."""
        ...


class SessionsUnitOfWork(IdentityUnitOfWork, Protocol):
    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...


SessionsUnitOfWorkFactory = Callable[..., SessionsUnitOfWork]
"""Called as ``factory()`` for a writing unit or ``factory(read_only=True)`` for a query."""


class LoginThrottle(Protocol):
    """Failed-login counters per account fingerprint and per client address.

    ``account`` is an opaque key (a keyed hash of the normalised email), ``ip`` the
    client address key; either may be None and is then not counted. Implementations
    follow ``agora.identity.sessions.throttle.ThrottlePolicy``.
    """

    async def retry_after(self, account: str | None, ip: str | None) -> float:
        """Seconds until a login for ``account`` from ``ip`` may be tried; 0 when it may now."""
        ...

    async def failed(self, account: str | None, ip: str | None) -> float:
        """Count one failed login; return the lockout it starts (0 below the thresholds)."""
        ...

    async def succeeded(self, account: str | None, ip: str | None) -> None:
        """Forget the account's failures (the address keeps its own)."""
        ...


class SecondFactor(Protocol):
    """The hook between the password step of a login and the second factor (MFA)."""

    async def challenge(self, user: User) -> SecondFactorRequired | None:
        """A challenge when ``user`` has MFA on; None when the password alone suffices."""
        ...

    async def verify(self, mfa_token: str, code: str) -> tuple[User, str]:
        """The challenge's token and a code: the user, and which kind of code passed
        (for the audit record); raises when either is wrong, spent or expired."""
        ...


class AccessCheck(Protocol):
    """Narrows a privileged principal to what its account may do now (``CurrentAccess``)."""

    async def check(self, principal: Principal) -> Principal | None:
        """``principal`` as the account allows now, or None if it is deactivated or gone."""
        ...
