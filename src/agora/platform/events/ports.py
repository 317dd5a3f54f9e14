"""What the relay, the inbox runners and the operators' tools need from storage and
from a broker. SQL adapters live in ``agora.platform.db``; RabbitMQ in
``agora.platform.broker``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from agora.platform.events.model import EventMessage


class Publisher(Protocol):
    """Hands messages to a broker; returns only once the broker confirmed every one."""

    async def publish(self, messages: Sequence[EventMessage]) -> None: ...

    async def close(self) -> None: ...


Validate = Callable[[EventMessage], None]


@dataclass(frozen=True, slots=True)
class RelayOutcome:
    published: int
    # Rows that failed validation: parked as dead letters instead of published.
    rejected: int
    # More rows were waiting when this batch was taken.
    more: bool


class Outbox(Protocol):
    async def relay(self, limit: int, validate: Validate) -> RelayOutcome:
        """Claim up to ``limit`` unpublished rows (rows another relay holds are
        skipped), validate, deliver and mark them published in one transaction."""
        ...


@dataclass(frozen=True, slots=True)
class InboxItem:
    consumer: str
    message: EventMessage
    attempts: int


HandleInTransaction = Callable[[EventMessage, int], Awaitable[None]]


class Inbox(Protocol):
    async def receive(self, consumer: str, messages: Sequence[EventMessage]) -> int:
        """Keep messages for ``consumer``; one it already has is ignored. Returns how
        many were new."""
        ...

    async def due(self, consumer: str, limit: int) -> list[InboxItem]:
        """Pending items due now, each the oldest pending one of its aggregate."""
        ...

    async def process(self, item: InboxItem, handle: HandleInTransaction) -> bool:
        """Run ``handle`` in a transaction that also marks the item handled. False when
        another process holds or already handled it; re-raises the handler's error
        after rolling everything back."""
        ...

    async def process_outside_transaction(
        self, item: InboxItem, handle: HandleInTransaction
    ) -> bool:
        """Lease the item, run ``handle`` with no transaction open, mark it handled."""
        ...

    async def retry_later(self, item: InboxItem, error: str, at: datetime) -> None: ...

    async def dead_letter(self, item: InboxItem, error: str) -> None: ...

    async def next_due_at(self, consumer: str) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class DeadLetter:
    event_id: UUID
    consumer: str  # "relay" for a row the relay could not publish
    name: str
    version: int
    aggregate_id: UUID
    occurred_at: datetime
    attempts: int
    last_error: str
    failed_at: datetime
    payload: dict[str, object]


@dataclass(frozen=True, slots=True)
class ConsumerLag:
    consumer: str
    pending: int
    oldest_pending_age_seconds: float | None
    retrying: int
    dead: int
    handled: int


@dataclass(frozen=True, slots=True)
class BackboneStatus:
    unpublished: int
    oldest_unpublished_age_seconds: float | None
    dead_letters: int
    consumers: tuple[ConsumerLag, ...]


class DeadLetterAdmin(Protocol):
    async def status(self, consumers: Sequence[str]) -> BackboneStatus: ...

    async def dead_letters(
        self, limit: int, consumer: str | None = None, offset: int = 0
    ) -> list[DeadLetter]: ...

    async def count(self, consumer: str | None = None) -> int:
        """Dead letters in all (of ``consumer``, ``"relay"`` for refused outbox rows)."""
        ...

    async def replay(self, event_id: UUID | None, consumer: str | None = None) -> int:
        """Put dead letters back to be tried again (``None``: all of them)."""
        ...

    async def purge(
        self,
        event_id: UUID | None,
        consumer: str | None = None,
        failed_before: datetime | None = None,
    ) -> int:
        """Drop dead letters (that failed before ``failed_before``) for good; their events
        stay marked so a redelivery is still ignored."""
        ...
