"""Request and response shapes of the events operations API (never storage rows)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from agora.http.schemas import RequestModel
from agora.platform.events.operations import MAX_IDS, MAX_PURGE_AGE_DAYS, Selection
from agora.platform.events.ports import BackboneStatus, DeadLetter


class ConsumerLagOut(BaseModel):
    consumer: str
    pending: int = Field(description="Events waiting to be handled, retries included.")
    oldest_pending_age_seconds: float | None = Field(
        description="Age of the oldest pending event; null when none is pending."
    )
    retrying: int = Field(description="Pending events that failed at least once.")
    dead: int = Field(description="Dead letters: events this consumer gave up on.")
    handled: int = Field(description="Events handled since the inbox was last pruned.")


class EventsStatusOut(BaseModel):
    unpublished: int = Field(description="Committed events the relay has not published yet.")
    oldest_unpublished_age_seconds: float | None
    dead_letters: int = Field(description="Dead letters in all, the relay's included.")
    consumers: list[ConsumerLagOut]


def status_out(status: BackboneStatus) -> dict[str, Any]:
    return {
        "unpublished": status.unpublished,
        "oldest_unpublished_age_seconds": status.oldest_unpublished_age_seconds,
        "dead_letters": status.dead_letters,
        "consumers": [
            {
                "consumer": lag.consumer,
                "pending": lag.pending,
                "oldest_pending_age_seconds": lag.oldest_pending_age_seconds,
                "retrying": lag.retrying,
                "dead": lag.dead,
                "handled": lag.handled,
            }
            for lag in status.consumers
        ],
    }


class DeadLetterOut(BaseModel):
    event_id: UUID
    consumer: str = Field(description='The consumer that gave up, or "relay".')
    name: str = Field(examples=["ordering.OrderCancelled"])
    version: int
    aggregate_id: UUID
    occurred_at: datetime
    attempts: int
    last_error: str
    failed_at: datetime | None
    payload: dict[str, Any]


def dead_letter_out(letter: DeadLetter) -> dict[str, Any]:
    return {name: getattr(letter, name) for name in DeadLetterOut.model_fields}


class ReplayRequest(RequestModel):
    """Either ``ids`` or ``all``; ``consumer`` narrows either to one consumer."""

    ids: list[UUID] | None = Field(None, min_length=1, max_length=MAX_IDS)
    all: bool = False
    consumer: str | None = Field(None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _ids_or_all(self) -> Self:
        if self.all == bool(self.ids):
            raise ValueError("give either ids or all: true")
        return self

    def selection(self) -> Selection:
        return Selection(tuple(self.ids or ()), self.all, self.consumer)


class PurgeRequest(ReplayRequest):
    older_than_days: float | None = Field(
        None, ge=0, le=MAX_PURGE_AGE_DAYS, description="Only letters that failed this long ago"
    )

    def selection(self) -> Selection:
        return Selection(tuple(self.ids or ()), self.all, self.consumer, self.older_than_days)


class ReplayOut(BaseModel):
    replayed: int = Field(description="Dead letters put back to be handled again.")
    missing: list[UUID] = Field(description="Ids asked for that were not dead letters.")


class PurgeOut(BaseModel):
    purged: int = Field(description="Dead letters dropped for good.")
    missing: list[UUID] = Field(description="Ids asked for that were not dead letters.")
