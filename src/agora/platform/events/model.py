"""Domain events as contexts record them, and event messages as they travel.

A ``DomainEvent`` is what a use case records on its unit of work; the unit writes it to
the outbox in the same transaction as the change. An ``EventMessage`` is the same fact
read back from the outbox with its commit-ordered ``position``: what the relay
publishes, what the broker carries and what a consumer's inbox keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from agora.platform.clock import utcnow
from agora.platform.ids import new_id


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """A named fact with a JSON-serialisable payload.

    ``name`` is past tense and namespaced by context (``ordering.OrderPlaced``);
    ``version`` is the version of its payload schema in the event catalogue;
    ``aggregate_id`` is the ordering key: consumers see one aggregate's events in the
    order their transactions committed.
    """

    name: str
    aggregate_id: UUID
    payload: dict[str, Any]
    id: UUID = field(default_factory=new_id)
    occurred_at: datetime = field(default_factory=utcnow)
    version: int = 1


class MalformedMessageError(ValueError):
    """Bytes that are not an event message (wrong shape, missing fields)."""


@dataclass(frozen=True, slots=True)
class EventMessage:
    """One committed event: its id is shared by every consumer and every redelivery."""

    id: UUID
    name: str
    version: int
    aggregate_id: UUID
    position: int
    occurred_at: datetime
    payload: dict[str, Any]

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "id": str(self.id),
                "name": self.name,
                "version": self.version,
                "aggregate_id": str(self.aggregate_id),
                "position": self.position,
                "occurred_at": self.occurred_at.isoformat(),
                "payload": self.payload,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> EventMessage:
        try:
            raw = orjson.loads(data)
            return cls(
                id=UUID(raw["id"]),
                name=str(raw["name"]),
                version=int(raw["version"]),
                aggregate_id=UUID(raw["aggregate_id"]),
                position=int(raw["position"]),
                occurred_at=datetime.fromisoformat(raw["occurred_at"]),
                payload=dict(raw["payload"]),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise MalformedMessageError(f"not an event message: {exc}") from None
