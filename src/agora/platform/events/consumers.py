"""Consumers: named, idempotent reactions to events, and the event a handler receives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel

P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Received(Generic[P]):
    """An event as a handler sees it: its payload parsed by the catalogue's schema.

    ``attempt`` counts from 1; the same ``id`` comes back on every attempt and is
    the idempotency key a handler passes on to anything outside the database (a
    payment provider's refund, for instance).
    """

    id: UUID
    name: str
    version: int
    aggregate_id: UUID
    occurred_at: datetime
    attempt: int
    payload: P


Handler = Callable[[Received[Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Consumer:
    """``name`` is stable: it keys the consumer's inbox and names its broker queue.

    The handler runs inside the inbox's transaction: whatever it writes through a
    unit of work commits together with the mark that the event was handled, so a
    redelivered event finds it handled and is skipped (``in_transaction=False`` is for
    effects no transaction can hold).
    """

    name: str
    events: frozenset[str]
    handler: Handler
    summary: str
    # False for a handler whose effect is outside the database (sending mail): it runs
    # with no transaction open, under a lease, and may repeat if a process dies mid-way.
    in_transaction: bool = True

    def wants(self, event_name: str) -> bool:
        return event_name in self.events


class Consumers:
    """The consumers a process runs, and who subscribes to which event."""

    def __init__(self, consumers: Iterable[Consumer] = ()) -> None:
        self._by_name: dict[str, Consumer] = {}
        for consumer in consumers:
            self.add(consumer)

    def add(self, consumer: Consumer) -> None:
        if consumer.name in self._by_name:
            raise ValueError(f"consumer {consumer.name} registered twice")
        self._by_name[consumer.name] = consumer

    def __iter__(self) -> Iterator[Consumer]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def get(self, name: str) -> Consumer:
        return self._by_name[name]

    def subscriptions(self) -> Mapping[str, tuple[str, ...]]:
        """Event name -> names of the consumers that take it."""
        table: dict[str, list[str]] = {}
        for consumer in self._by_name.values():
            for event in consumer.events:
                table.setdefault(event, []).append(consumer.name)
        return {event: tuple(sorted(names)) for event, names in table.items()}
