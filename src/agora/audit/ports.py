"""Ports of the audit context: where records and the chain head are kept."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from agora.audit.domain import AuditQuery, AuditRecord, ChainHead
from agora.platform.unit_of_work import UnitOfWork


class AuditRecords(Protocol):
    """Append-only storage: there is deliberately no way to change or remove a record."""

    async def add(self, record: AuditRecord) -> None: ...

    async def search(
        self, query: AuditQuery, offset: int, limit: int
    ) -> tuple[Sequence[AuditRecord], int]:
        """Matching records, newest (highest ``seq``) first, and how many match in all."""
        ...

    async def after(self, seq: int, limit: int) -> Sequence[AuditRecord]:
        """Up to ``limit`` records with a ``seq`` above ``seq``, in ``seq`` order."""
        ...


class AuditChain(Protocol):
    async def lock_head(self) -> ChainHead:
        """The head, locked until the unit ends: appenders queue here, so the chain never forks."""
        ...

    async def head(self) -> ChainHead:
        """The head as last committed, without locking it."""
        ...

    async def advance(self, record: AuditRecord) -> None:
        """Make ``record`` the new head (inside the unit that locked the head)."""
        ...


class AuditUnitOfWork(UnitOfWork, Protocol):
    @property
    def records(self) -> AuditRecords: ...

    @property
    def chain(self) -> AuditChain: ...

    @property
    def joined(self) -> bool:
        """Whether the unit runs in the caller's open transaction rather than its own."""
        ...


AuditUnitOfWorkFactory = Callable[..., AuditUnitOfWork]
"""Called as ``factory()`` for a writing unit, which joins the caller's open unit of work
if there is one, ``factory(join=False)`` for one in its own transaction whatever the
caller holds, or ``factory(read_only=True)`` for a query."""
