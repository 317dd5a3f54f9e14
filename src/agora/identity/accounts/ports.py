"""Ports of accounts: the stored email tokens, and the password strength estimate."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from agora.identity.accounts.domain import EmailToken, EmailTokenPurpose
from agora.identity.sessions.ports import SessionsUnitOfWork


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

    async def delete_spent(self, before: datetime) -> int:
        """Delete every token that expired or was used before ``before``; how many went."""
        ...


class AccountsUnitOfWork(SessionsUnitOfWork, Protocol):
    """A password reset or change ends sessions, so the sessions come along."""

    @property
    def email_tokens(self) -> EmailTokenRepository: ...


AccountsUnitOfWorkFactory = Callable[..., AccountsUnitOfWork]
"""Called as ``factory()`` for a writing unit or ``factory(read_only=True)`` for a query."""


@dataclass(frozen=True, slots=True)
class Strength:
    """A strength estimate: ``score`` 0 (trivial) to 4 (very hard to guess), and advice."""

    score: int
    warning: str = ""
    suggestions: Sequence[str] = ()


class StrengthEstimator(Protocol):
    def estimate(self, password: str, personal: Sequence[str]) -> Strength:
        """Estimate how hard ``password`` is to guess, knowing the user's own words."""
        ...
