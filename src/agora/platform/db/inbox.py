"""The consumers' inboxes: one row per (consumer, event), the consumer's idempotency record.

``receive`` keeps an event for a consumer unless it already has it (a redelivered copy
changes nothing). ``process`` runs the handler in a transaction that holds the row
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite) and marks it
handled in the same commit as the handler's own writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from agora.platform.clock import utcnow
from agora.platform.db.engine import READ_ONLY
from agora.platform.db.schema import plain_uuid
from agora.platform.db.tables import event_inbox as i
from agora.platform.db.tables import outbox_events as o
from agora.platform.db.transaction import joined_transaction
from agora.platform.db.writers import one_writer, write_transaction
from agora.platform.events import EventMessage
from agora.platform.events.ports import HandleInTransaction, InboxItem
from agora.platform.events.signals import outbox_written

PENDING, DONE, DEAD, PURGED = "pending", "done", "dead", "purged"
# How many pages of pending rows one look for due work reads at most.
_MAX_PAGES = 10
# With a broker, how long an event published earlier but not yet in a consumer's inbox
# holds back the later events of its aggregate (a redelivery after a subscriber failover
# can overtake it). Past this, it is taken as one that will never come (published before
# the consumer's queue existed).
REORDER_WINDOW = timedelta(seconds=30)


async def insert_inbox_rows(conn: AsyncConnection, rows: Sequence[tuple[str, EventMessage]]) -> int:
    """Insert (consumer, message) rows, ignoring ones the inbox already has."""
    if not rows:
        return 0
    now = utcnow()
    values = [
        {
            "consumer": consumer,
            "event_id": m.id,
            "position": m.position,
            "name": m.name,
            "version": m.version,
            "aggregate_id": m.aggregate_id,
            "occurred_at": m.occurred_at,
            "payload": m.payload,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "received_at": now,
        }
        for consumer, m in rows
    ]
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    result = await conn.execute(insert(i).values(values).on_conflict_do_nothing())
    return max(result.rowcount, 0)


def message_of(row: Any, event_id: Any) -> EventMessage:
    """The message an outbox or inbox row holds (``event_id``: its id column's value)."""
    return EventMessage(
        id=plain_uuid(event_id),
        name=row.name,
        version=row.version,
        aggregate_id=plain_uuid(row.aggregate_id),
        position=row.position,
        occurred_at=row.occurred_at,
        payload=row.payload,
    )


def _item(row: Any) -> InboxItem:
    return InboxItem(row.consumer, message_of(row, row.event_id), row.attempts)


def _key(item: InboxItem) -> Any:
    return and_(i.c.consumer == item.consumer, i.c.event_id == item.message.id)


class SqlInbox:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        lease_seconds: float = 300.0,
        guard_order: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        """``guard_order`` (consumer -> the events it takes) when events reach the inbox
        through a broker, which may hand them over out of order: an event is not due
        while an earlier one of its aggregate is still on its way (see ``REORDER_WINDOW``)."""
        self._engine = engine
        # Reads take no write lock on SQLite (a deferred BEGIN).
        self._reader = engine.execution_options(**{READ_ONLY: True})
        self._guard_order = dict(guard_order or {})
        # How long a handler that runs outside a transaction may take before another
        # process may assume it died and try the event again.
        self._lease = timedelta(seconds=lease_seconds)

    async def receive(self, consumer: str, messages: Sequence[EventMessage]) -> int:
        async with write_transaction(self._engine) as conn:
            return await insert_inbox_rows(conn, [(consumer, m) for m in messages])

    async def due(self, consumer: str, limit: int) -> list[InboxItem]:
        """Walk the pending rows in position order, taking the first row of each
        aggregate when it is due; a row waiting for its retry holds back only its own
        aggregate. Pages through the rows (keyset on position) so that many rows
        waiting for a retry at the front never hide the ones behind them."""
        now = utcnow()
        picked: list[InboxItem] = []
        seen: set[Any] = set()
        after: int | None = None
        page = max(4 * limit, 200)
        async with self._reader.connect() as conn:
            for _ in range(_MAX_PAGES):
                query = select(i).where(i.c.consumer == consumer, i.c.status == PENDING)
                if after is not None:
                    query = query.where(i.c.position > after)
                rows = (await conn.execute(query.order_by(i.c.position).limit(page))).all()
                for row in rows:
                    if row.aggregate_id in seen:
                        continue
                    seen.add(row.aggregate_id)
                    if row.next_attempt_at <= now:
                        picked.append(_item(row))
                        if len(picked) >= limit:
                            break
                if len(picked) >= limit or len(rows) < page:
                    break
                after = rows[-1].position
            names = self._guard_order.get(consumer)
            if names and picked:
                picked = await self._not_overtaking(conn, consumer, names, picked, now)
        return picked

    async def _not_overtaking(
        self,
        conn: AsyncConnection,
        consumer: str,
        names: frozenset[str],
        picked: list[InboxItem],
        now: datetime,
    ) -> list[InboxItem]:
        """Drop the items an earlier event of their aggregate has not reached yet: in the
        outbox (unpublished, or published within the window), taken by this consumer,
        and not in its inbox."""
        missing = (
            await conn.execute(
                select(o.c.aggregate_id, func.min(o.c.position))
                .where(
                    o.c.aggregate_id.in_({item.message.aggregate_id for item in picked}),
                    o.c.position < max(item.message.position for item in picked),
                    o.c.name.in_(names),
                    o.c.dead_at.is_(None),
                    or_(o.c.published_at.is_(None), o.c.published_at > now - REORDER_WINDOW),
                    ~exists().where(i.c.consumer == consumer, i.c.event_id == o.c.id),
                )
                .group_by(o.c.aggregate_id)
            )
        ).all()
        earliest = {plain_uuid(aggregate): position for aggregate, position in missing}
        return [
            item
            for item in picked
            if earliest.get(item.message.aggregate_id, item.message.position)
            >= item.message.position
        ]

    async def process(self, item: InboxItem, handle: HandleInTransaction) -> bool:
        async with one_writer(self._engine), self._engine.connect() as conn:
            await conn.begin()
            claim = select(i.c.attempts).where(
                _key(item), i.c.status == PENDING, i.c.next_attempt_at <= utcnow()
            )
            if conn.dialect.name == "postgresql":
                claim = claim.with_for_update(skip_locked=True)
            attempts = (await conn.execute(claim)).scalar_one_or_none()
            if attempts is None:  # another process has it, or handled it already
                await conn.rollback()
                return False
            with joined_transaction(conn):
                await handle(item.message, attempts + 1)
            await conn.execute(
                update(i)
                .where(_key(item))
                .values(status=DONE, attempts=attempts + 1, handled_at=utcnow(), last_error=None)
            )
            await conn.commit()
        # A handler's units wrote to the outbox on this connection: wake the relay.
        outbox_written.send()
        return True

    async def process_outside_transaction(
        self, item: InboxItem, handle: HandleInTransaction
    ) -> bool:
        """For handlers whose effect is outside the database (sending mail): take a lease
        on the row, run the handler with no transaction open, then mark it handled. A
        process that dies mid-way leaves the event to be tried again once the lease ends."""
        now = utcnow()
        async with write_transaction(self._engine) as conn:
            taken = await conn.execute(
                update(i)
                .where(_key(item), i.c.status == PENDING, i.c.next_attempt_at <= now)
                .values(next_attempt_at=now + self._lease)
            )
            if taken.rowcount != 1:
                return False
        await handle(item.message, item.attempts + 1)
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                update(i)
                .where(_key(item), i.c.status == PENDING)
                .values(
                    status=DONE, attempts=i.c.attempts + 1, handled_at=utcnow(), last_error=None
                )
            )
        return True

    async def retry_later(self, item: InboxItem, error: str, at: datetime) -> None:
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                update(i)
                .where(_key(item), i.c.status == PENDING)
                .values(attempts=i.c.attempts + 1, last_error=error, next_attempt_at=at)
            )

    async def dead_letter(self, item: InboxItem, error: str) -> None:
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                update(i)
                .where(_key(item), i.c.status == PENDING)
                .values(
                    status=DEAD,
                    attempts=i.c.attempts + 1,
                    last_error=error,
                    handled_at=utcnow(),
                )
            )

    async def next_due_at(self, consumer: str) -> datetime | None:
        query = select(func.min(i.c.next_attempt_at)).where(
            i.c.consumer == consumer, i.c.status == PENDING
        )
        async with self._reader.connect() as conn:
            value: datetime | None = (await conn.execute(query)).scalar_one_or_none()
        return value
