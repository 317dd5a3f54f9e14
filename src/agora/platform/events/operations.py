"""What operators do with the events backbone, shared by ``agora events`` and the staff
API: read the backlog and each consumer's lag, list dead letters, replay or purge them,
and drain what is due now.

Every use case takes the caller: a staff ``Principal`` through the API (checked against
``events:read`` or ``events:manage``), or ``CLI`` for someone at the host's shell, who
holds the database's credentials anyway. Replays and purges are written to the audit
trail once they are done, with the staff user as actor, or with actor ``"cli"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from enum import Enum
from typing import Any
from uuid import UUID

from agora.platform.access import Permission, Principal
from agora.platform.audit import AuditTrail
from agora.platform.clock import utcnow
from agora.platform.errors import ValidationError
from agora.platform.events.asyncapi import asyncapi_document
from agora.platform.events.backbone import EventBackbone
from agora.platform.events.catalogue import EventCatalogue
from agora.platform.events.consumers import Consumers
from agora.platform.events.ports import BackboneStatus, DeadLetter, DeadLetterAdmin

RELAY = "relay"  # the "consumer" of an outbox row the relay refused to publish
MAX_LIST = 500
MAX_IDS = 500
MAX_PURGE_AGE_DAYS = 36_500


class Cli(Enum):
    """The caller at the host's shell (``agora events``)."""

    OPERATOR = "cli"


CLI = Cli.OPERATOR
Caller = Principal | Cli
Change = Callable[[UUID | None, str | None], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Selection:
    """Which dead letters a replay or purge touches: these event ids, or every one
    (of one consumer); ``older_than_days`` narrows a purge to letters that old."""

    ids: tuple[UUID, ...] = ()
    all: bool = False
    consumer: str | None = None
    older_than_days: float | None = None

    def __post_init__(self) -> None:
        if self.all == bool(self.ids):
            raise ValidationError("Give either event ids or all, not both and not neither.")
        if len(self.ids) > MAX_IDS:
            raise ValidationError(f"At most {MAX_IDS} ids at once.", max_ids=MAX_IDS)
        days = self.older_than_days
        if days is not None and not 0 <= days <= MAX_PURGE_AGE_DAYS:
            raise ValidationError("older_than_days must be between 0 and 36500.")


@dataclass(frozen=True, slots=True)
class Outcome:
    """How many dead letters a replay or purge changed; ``missing``: ids asked for that
    were not (or no longer) dead letters."""

    changed: int
    missing: tuple[UUID, ...] = ()


@dataclass(frozen=True, slots=True)
class DrainOutcome:
    emptied: bool  # nothing left to relay and nothing pending, within the timeout
    seconds: float
    status: BackboneStatus


def status_as_dict(status: BackboneStatus) -> dict[str, Any]:
    return asdict(status)


class EventsOperations:
    def __init__(
        self,
        admin: DeadLetterAdmin,
        catalogue: EventCatalogue,
        consumers: Consumers,
        backbone: EventBackbone,
        audit: AuditTrail,
        *,
        exchange: str,
        version: str,
    ) -> None:
        self._admin = admin
        self._catalogue = catalogue
        self._consumers = consumers
        self._backbone = backbone
        self._audit = audit
        self._exchange = exchange
        self._version = version
        self._document: dict[str, Any] | None = None

    def asyncapi(self) -> dict[str, Any]:
        """The AsyncAPI document of the catalogue and these consumers (public, like the
        OpenAPI document: schemas only, no data)."""
        if self._document is None:
            self._document = asyncapi_document(
                self._catalogue, self._consumers, exchange=self._exchange, version=self._version
            )
        return self._document

    @property
    def consumer_names(self) -> tuple[str, ...]:
        return tuple(sorted(c.name for c in self._consumers))

    async def status(self, principal: Caller) -> BackboneStatus:
        _require(principal, Permission.EVENTS_READ)
        return await self._admin.status(self.consumer_names)

    async def dead_letters(
        self, principal: Caller, *, consumer: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[DeadLetter], int]:
        """A page of dead letters and how many there are in all."""
        _require(principal, Permission.EVENTS_READ)
        self._check_consumer(consumer)
        if not 1 <= limit <= MAX_LIST:
            raise ValidationError(f"limit must be between 1 and {MAX_LIST}.")
        found = await self._admin.dead_letters(limit, consumer, offset)
        return found, await self._admin.count(consumer)

    async def replay(self, principal: Caller, selection: Selection) -> Outcome:
        """Put dead letters back to be handled afresh (attempts from zero)."""
        _require(principal, Permission.EVENTS_MANAGE)
        self._check_consumer(selection.consumer)
        if selection.older_than_days is not None:
            raise ValidationError("older_than_days narrows a purge, not a replay.")
        outcome = await self._each(selection, self._admin.replay)
        await self._record("events.dead_letters.replay", principal, selection, outcome)
        return outcome

    async def purge(self, principal: Caller, selection: Selection) -> Outcome:
        """Drop dead letters for good (a redelivered copy is still ignored)."""
        _require(principal, Permission.EVENTS_MANAGE)
        self._check_consumer(selection.consumer)
        before = None
        if selection.older_than_days is not None:
            before = utcnow() - timedelta(days=selection.older_than_days)

        async def purge(event_id: UUID | None, consumer: str | None) -> int:
            return await self._admin.purge(event_id, consumer, before)

        outcome = await self._each(selection, purge)
        await self._record("events.dead_letters.purge", principal, selection, outcome)
        return outcome

    async def drain(self, principal: Caller, within_seconds: float) -> DrainOutcome:
        """Relay and handle everything due until nothing is left, or ``within_seconds``
        pass. Events waiting for a later retry keep it from emptying: they count."""
        _require(principal, Permission.EVENTS_MANAGE)
        started = time.monotonic()
        deadline = started + within_seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._backbone.drain(), remaining)
            status = await self._admin.status(self.consumer_names)
            # A consumer no process here runs (retired, or another deployment's) cannot
            # be drained from here: its rows do not keep the drain going.
            ours = set(self.consumer_names)
            emptied = status.unpublished == 0 and all(
                c.pending == 0 for c in status.consumers if c.consumer in ours
            )
            if emptied or time.monotonic() >= deadline:
                return DrainOutcome(emptied, round(time.monotonic() - started, 3), status)
            await asyncio.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    async def _each(self, selection: Selection, change: Change) -> Outcome:
        if selection.all:
            return Outcome(await change(None, selection.consumer))
        changed, missing = 0, []
        for event_id in dict.fromkeys(selection.ids):
            count = await change(event_id, selection.consumer)
            changed += count
            if not count:
                missing.append(event_id)
        return Outcome(changed, tuple(missing))

    def _check_consumer(self, consumer: str | None) -> None:
        if consumer is not None and consumer != RELAY and consumer not in self.consumer_names:
            raise ValidationError(
                f"No consumer is called {consumer!r}.",
                consumer=consumer,
                known=[RELAY, *self.consumer_names],
            )

    async def _record(
        self, action: str, principal: Caller, selection: Selection, outcome: Outcome
    ) -> None:
        details: dict[str, Any] = {
            "actor": "cli" if principal is CLI else "api",
            "all": selection.all,
            "consumer": selection.consumer,
            "count": outcome.changed,
        }
        if selection.ids:
            details["ids"] = [str(event_id) for event_id in selection.ids]
        if selection.older_than_days is not None:
            details["older_than_days"] = selection.older_than_days
        await self._audit.record(
            action,
            actor_id=principal.user_id if isinstance(principal, Principal) else None,
            target_type="dead_letters",
            target_id=selection.consumer,
            details=details,
        )


def _require(principal: Caller, permission: Permission) -> None:
    if isinstance(principal, Principal):
        principal.require(permission)
