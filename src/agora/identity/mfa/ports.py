"""Ports of multi-factor authentication: what ``MfaService`` needs from the outside world."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from agora.identity.mfa.domain import MfaChallenge, RecoveryCode, TotpCredential
from agora.identity.sessions.ports import SessionsUnitOfWork


class TotpCredentialRepository(Protocol):
    """One authenticator per user; the adapter keeps the secret encrypted at rest."""

    async def get(self, user_id: UUID) -> TotpCredential | None: ...

    async def add(self, credential: TotpCredential) -> None:
        """Insert; raises ``ConflictError`` when the user already has one."""
        ...

    async def replace_pending(self, credential: TotpCredential) -> bool:
        """Overwrite an unconfirmed credential; False when it is confirmed (or gone)."""
        ...

    async def confirm(self, user_id: UUID, step: int, now: datetime) -> bool:
        """Enable a pending credential, its first code used up; False if not pending."""
        ...

    async def use_step(self, user_id: UUID, step: int, now: datetime) -> bool:
        """Record ``step`` as used if it is later than the last used one; False otherwise.

        Atomic: of two requests with the same code, exactly one gets True.
        """
        ...

    async def record_failure(self, user_id: UUID, now: datetime) -> None: ...

    async def clear_failures(self, user_id: UUID) -> None: ...

    async def delete(self, user_id: UUID) -> bool: ...


class RecoveryCodeRepository(Protocol):
    async def replace_all(self, user_id: UUID, codes: Sequence[RecoveryCode]) -> None: ...

    async def unused(self, user_id: UUID) -> list[RecoveryCode]: ...

    async def use(self, code_id: UUID, now: datetime) -> bool:
        """Mark an unused code used; False when already used (atomic)."""
        ...

    async def count_unused(self, user_id: UUID) -> int: ...

    async def delete_all(self, user_id: UUID) -> None: ...


class MfaChallengeRepository(Protocol):
    async def add(self, challenge: MfaChallenge) -> None: ...

    async def get_by_hash(self, token_hash: str) -> MfaChallenge | None: ...

    async def claim_attempt(self, challenge_id: UUID, now: datetime) -> bool:
        """Count one code attempt if the challenge is still open; False when it is not.

        Atomic, so concurrent guesses cannot exceed the attempt limit.
        """
        ...

    async def consume(self, challenge_id: UUID, now: datetime) -> bool:
        """Close an open challenge for good; False when another request closed it first."""
        ...

    async def delete_expired(self, user_id: UUID, now: datetime) -> None: ...

    async def delete_all_expired(self, now: datetime) -> int:
        """Delete every user's challenges that expired by ``now``; how many went."""
        ...


class MfaUnitOfWork(SessionsUnitOfWork, Protocol):
    """An operator's reset ends the sessions too, so they come along."""

    @property
    def totp(self) -> TotpCredentialRepository: ...

    @property
    def recovery_codes(self) -> RecoveryCodeRepository: ...

    @property
    def mfa_challenges(self) -> MfaChallengeRepository: ...


MfaUnitOfWorkFactory = Callable[..., MfaUnitOfWork]
"""Called as ``factory()`` for a writing unit or ``factory(read_only=True)`` for a query."""


class QrCodes(Protocol):
    def svg(self, data: str) -> str:
        """A QR code of ``data`` as a standalone SVG document."""
        ...
