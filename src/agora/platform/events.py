"""Domain events: facts other contexts may care about, written to the outbox on commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from agora.platform.clock import utcnow
from agora.platform.ids import new_id


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """A named fact with a JSON-serialisable payload.

    ``name`` is past tense and namespaced by context (``ordering.OrderPlaced``);
    ``aggregate_id`` lets consumers order events per aggregate.
    """

    name: str
    aggregate_id: UUID
    payload: dict[str, Any]
    id: UUID = field(default_factory=new_id)
    occurred_at: datetime = field(default_factory=utcnow)
