"""What operators see and do: backlog and lag, dead letters, replay and purge.

A dead letter is either an inbox row a consumer gave up on (``status = 'dead'``) or an
outbox row the relay refused to publish (its payload failed its schema: ``dead_at``).
Replaying puts either back to be tried afresh; purging drops it for good, while the
inbox keeps the event's id so that a redelivered copy is still ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from agora.platform.clock import utcnow
from agora.platform.db.inbox import DEAD, DONE, PENDING, PURGED
from agora.platform.db.schema import plain_uuid
from agora.platform.db.tables import event_inbox as i
from agora.platform.db.tables import outbox_events as o
from agora.platform.db.writers import write_transaction
from agora.platform.events.ports import BackboneStatus, ConsumerLag, DeadLetter
from agora.platform.events.signals import outbox_written

RELAY = "relay"


def _age(oldest: datetime | None, now: datetime) -> float | None:
    return None if oldest is None else max(0.0, (now - oldest).total_seconds())


class SqlDeadLetters:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def status(self, consumers: Sequence[str]) -> BackboneStatus:
        now = utcnow()
        unpublished = (o.c.published_at.is_(None), o.c.dead_at.is_(None))
        async with self._engine.connect() as conn:
            backlog, oldest = (
                await conn.execute(
                    select(func.count(), func.min(o.c.occurred_at)).where(*unpublished)
                )
            ).one()
            relay_dead = (
                await conn.execute(select(func.count()).where(o.c.dead_at.is_not(None)))
            ).scalar_one()
            pending = i.c.status == PENDING
            rows = (
                await conn.execute(
                    select(
                        i.c.consumer,
                        func.count(case((pending, 1))),
                        func.min(case((pending, i.c.occurred_at))),
                        func.count(case((pending & (i.c.attempts > 0), 1))),
                        func.count(case((i.c.status == DEAD, 1))),
                        func.count(case((i.c.status == DONE, 1))),
                    ).group_by(i.c.consumer)
                )
            ).all()
        by_name = {row[0]: row for row in rows}
        lags = []
        for name in sorted(set(consumers) | set(by_name)):
            row = by_name.get(name)
            if row is None:
                lags.append(ConsumerLag(name, 0, None, 0, 0, 0))
                continue
            lags.append(
                ConsumerLag(
                    consumer=name,
                    pending=row[1],
                    oldest_pending_age_seconds=_age(_utc(row[2]), now),
                    retrying=row[3],
                    dead=row[4],
                    handled=row[5],
                )
            )
        return BackboneStatus(
            unpublished=backlog,
            oldest_unpublished_age_seconds=_age(_utc(oldest), now),
            dead_letters=relay_dead + sum(lag.dead for lag in lags),
            consumers=tuple(lags),
        )

    async def dead_letters(
        self, limit: int, consumer: str | None = None, offset: int = 0
    ) -> list[DeadLetter]:
        """Refused outbox rows first (in commit order), then inbox rows as they failed."""
        letters: list[DeadLetter] = []
        relay_total = 0
        async with self._engine.connect() as conn:
            if consumer in (None, RELAY):
                relay_total = (
                    await conn.execute(select(func.count()).where(o.c.dead_at.is_not(None)))
                ).scalar_one()
                query = select(o).where(o.c.dead_at.is_not(None)).order_by(o.c.position)
                for row in (await conn.execute(query.offset(offset).limit(limit))).all():
                    letters.append(_relay_letter(row))
            if consumer != RELAY and len(letters) < limit:
                query = select(i).where(i.c.status == DEAD)
                if consumer is not None:
                    query = query.where(i.c.consumer == consumer)
                query = (
                    query.order_by(i.c.handled_at, i.c.position)
                    .offset(max(0, offset - relay_total))
                    .limit(limit - len(letters))
                )
                for row in (await conn.execute(query)).all():
                    letters.append(_inbox_letter(row))
        return letters

    async def count(self, consumer: str | None = None) -> int:
        total = 0
        async with self._engine.connect() as conn:
            if consumer in (None, RELAY):
                query = select(func.count()).where(o.c.dead_at.is_not(None))
                total += (await conn.execute(query)).scalar_one()
            if consumer != RELAY:
                query = select(func.count()).where(i.c.status == DEAD)
                if consumer is not None:
                    query = query.where(i.c.consumer == consumer)
                total += (await conn.execute(query)).scalar_one()
        return total

    async def replay(self, event_id: UUID | None, consumer: str | None = None) -> int:
        count = await self._change(
            event_id,
            consumer,
            relay_values={"dead_at": None, "last_error": None},
            inbox_values={
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": utcnow(),
                "handled_at": None,
            },
        )
        if count:
            outbox_written.send()
        return count

    async def purge(
        self,
        event_id: UUID | None,
        consumer: str | None = None,
        failed_before: datetime | None = None,
    ) -> int:
        now = utcnow()
        # A refused outbox row becomes history: marked published, so no relay takes it.
        return await self._change(
            event_id,
            consumer,
            relay_values={"dead_at": None, "published_at": now},
            inbox_values={"status": PURGED, "handled_at": now},
            failed_before=failed_before,
        )

    async def _change(
        self,
        event_id: UUID | None,
        consumer: str | None,
        *,
        relay_values: dict[str, Any],
        inbox_values: dict[str, Any],
        failed_before: datetime | None = None,
    ) -> int:
        count = 0
        async with write_transaction(self._engine) as conn:
            if consumer in (None, RELAY):
                query = update(o).where(o.c.dead_at.is_not(None))
                if event_id is not None:
                    query = query.where(o.c.id == event_id)
                if failed_before is not None:
                    query = query.where(o.c.dead_at < failed_before)
                count += (await conn.execute(query.values(**relay_values))).rowcount
            if consumer != RELAY:
                query = update(i).where(i.c.status == DEAD)
                if event_id is not None:
                    query = query.where(i.c.event_id == event_id)
                if consumer is not None:
                    query = query.where(i.c.consumer == consumer)
                if failed_before is not None:
                    query = query.where(i.c.handled_at < failed_before)
                count += (await conn.execute(query.values(**inbox_values))).rowcount
        return count


def _utc(value: Any) -> datetime | None:
    """An aggregate over a CASE loses the column type: SQLite hands back text."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _relay_letter(row: Any) -> DeadLetter:
    return DeadLetter(
        event_id=plain_uuid(row.id),
        consumer=RELAY,
        name=row.name,
        version=row.version,
        aggregate_id=plain_uuid(row.aggregate_id),
        occurred_at=row.occurred_at,
        attempts=row.attempts,
        last_error=row.last_error or "",
        failed_at=row.dead_at,
        payload=row.payload,
    )


def _inbox_letter(row: Any) -> DeadLetter:
    return DeadLetter(
        event_id=plain_uuid(row.event_id),
        consumer=row.consumer,
        name=row.name,
        version=row.version,
        aggregate_id=plain_uuid(row.aggregate_id),
        occurred_at=row.occurred_at,
        attempts=row.attempts,
        last_error=row.last_error or "",
        failed_at=row.handled_at,
        payload=row.payload,
    )
