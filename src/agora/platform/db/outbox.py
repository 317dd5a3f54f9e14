"""The SQL outbox: claimed in commit order, delivered, marked published in one transaction.

On PostgreSQL rows are claimed ``FOR UPDATE SKIP LOCKED``: several relays share the
work and never take the same row while one holds it. Rows of an aggregate whose
earlier rows another relay holds are left for a later round, so one aggregate's events
always leave in order. On SQLite the relay's transaction holds the write lock, which
already makes it the only relay at that moment.

Delivery is either a broker (``Publisher``: the rows are marked published only after
the broker confirmed them; a relay that dies in between leaves them to be published
again, and the consumers' inboxes absorb the copy) or, in embedded mode, the inboxes
of this database's consumers, filled in the same transaction that marks the rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from agora.platform.clock import utcnow
from agora.platform.db.inbox import insert_inbox_rows, message_of
from agora.platform.db.tables import outbox_events as o
from agora.platform.db.writers import one_writer
from agora.platform.events import EventMessage, EventSchemaError
from agora.platform.events.ports import Publisher, RelayOutcome, Validate

_COLUMNS = (o.c.position, o.c.id, o.c.name, o.c.version, o.c.aggregate_id, o.c.occurred_at)
_UNPUBLISHED = (o.c.published_at.is_(None), o.c.dead_at.is_(None))


class SqlOutbox:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        publisher: Publisher | None = None,
        subscriptions: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """``publisher`` for a broker; otherwise ``subscriptions`` (event name ->
        consumer names) says which inboxes each event goes to."""
        self._engine = engine
        self._publisher = publisher
        self._subscriptions = subscriptions or {}

    async def relay(self, limit: int, validate: Validate) -> RelayOutcome:
        async with one_writer(self._engine), self._engine.connect() as conn:
            await conn.begin()
            postgres = conn.dialect.name == "postgresql"
            query = select(*_COLUMNS, o.c.payload).where(*_UNPUBLISHED).order_by(o.c.position)
            query = query.limit(limit + 1)
            if postgres:
                query = query.with_for_update(skip_locked=True)
            rows = (await conn.execute(query)).all()
            more = len(rows) > limit
            messages = [message_of(row, row.id) for row in rows[:limit]]
            if postgres and messages:
                messages = await self._in_aggregate_order(conn, messages)
            if not messages:
                await conn.rollback()
                return RelayOutcome(published=0, rejected=0, more=False)
            valid, rejected = _validated(messages, validate)
            now = utcnow()
            for message, error in rejected:
                await conn.execute(
                    update(o)
                    .where(o.c.position == message.position)
                    .values(dead_at=now, last_error=error, attempts=o.c.attempts + 1)
                )
            if valid:
                await self._deliver(conn, valid)
                await conn.execute(
                    update(o)
                    .where(o.c.position.in_([m.position for m in valid]))
                    .values(published_at=now, attempts=o.c.attempts + 1, last_error=None)
                )
            await conn.commit()
            return RelayOutcome(published=len(valid), rejected=len(rejected), more=more)

    async def _in_aggregate_order(
        self, conn: AsyncConnection, messages: list[EventMessage]
    ) -> list[EventMessage]:
        """Drop the aggregates whose earlier unpublished rows another relay holds."""
        first: dict[Any, int] = {}
        for message in messages:
            first.setdefault(message.aggregate_id, message.position)
        earliest = dict(
            (
                await conn.execute(
                    select(o.c.aggregate_id, func.min(o.c.position))
                    .where(*_UNPUBLISHED, o.c.aggregate_id.in_(list(first)))
                    .group_by(o.c.aggregate_id)
                )
            ).all()
        )
        held = {agg for agg, position in first.items() if earliest.get(agg, position) < position}
        return [m for m in messages if m.aggregate_id not in held]

    async def _deliver(self, conn: AsyncConnection, messages: list[EventMessage]) -> None:
        if self._publisher is not None:
            await self._publisher.publish(messages)
            return
        rows = [
            (consumer, message)
            for message in messages
            for consumer in self._subscriptions.get(message.name, ())
        ]
        await insert_inbox_rows(conn, rows)


def _validated(
    messages: list[EventMessage], validate: Validate
) -> tuple[list[EventMessage], list[tuple[EventMessage, str]]]:
    valid: list[EventMessage] = []
    rejected: list[tuple[EventMessage, str]] = []
    for message in messages:
        try:
            validate(message)
        except EventSchemaError as exc:
            rejected.append((message, str(exc)))
        else:
            valid.append(message)
    return valid, rejected
