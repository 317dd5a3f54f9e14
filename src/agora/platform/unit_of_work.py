"""The unit-of-work port: one command, one transaction, committed explicitly.

Leaving the ``async with`` block without ``commit()`` rolls everything back. Events
recorded during the unit go to the outbox in the same transaction as the change.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self, TypeVar

from agora.platform.events import DomainEvent


class UnitOfWork(Protocol):
    """Each context extends it with its repositories, e.g. ``OrderingUnitOfWork``."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    def record(self, event: DomainEvent) -> None: ...


U_co = TypeVar("U_co", bound=UnitOfWork, covariant=True)


class UnitOfWorkFactory(Protocol[U_co]):
    """Opens a unit: ``factory()`` to write, ``factory(read_only=True)`` to only read."""

    def __call__(self, *, read_only: bool = False) -> U_co: ...
