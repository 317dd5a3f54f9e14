"""Retention of the events backbone's bookkeeping: published outbox rows and handled
inbox rows older than the retention are deleted, in batches so that neither database
holds its locks for long.

Unpublished and dead-lettered outbox rows, and pending, dead and purged inbox rows, are
never touched: they are work still to do or evidence an operator may need. An inbox row
is its consumer's record that it handled an event, so the retention is also how long a
redelivered copy is still recognised (ADR 0028); keep it well above the longest time a
broker may hold a message.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from agora.platform.clock import utcnow
from agora.platform.db.inbox import DONE
from agora.platform.db.tables import event_inbox as i
from agora.platform.db.tables import outbox_events as o
from agora.platform.db.writers import write_transaction


class SqlEventRetention:
    def __init__(self, engine: AsyncEngine, *, batch_size: int = 5000) -> None:
        self._engine = engine
        self._batch_size = batch_size

    async def purge(self, older_than: timedelta) -> str:
        before = utcnow() - older_than
        outbox = inbox = 0
        while True:
            batch = (
                select(o.c.position)
                .where(o.c.published_at < before)
                .order_by(o.c.position)
                .limit(self._batch_size)
            )
            async with write_transaction(self._engine) as conn:
                removed = (await conn.execute(delete(o).where(o.c.position.in_(batch)))).rowcount
            outbox += removed
            if removed < self._batch_size:
                break
        while True:
            handled = (
                select(i.c.consumer, i.c.event_id)
                .where(and_(i.c.status == DONE, i.c.handled_at < before))
                .limit(self._batch_size)
            )
            async with write_transaction(self._engine) as conn:
                statement = delete(i).where(tuple_(i.c.consumer, i.c.event_id).in_(handled))
                removed = (await conn.execute(statement)).rowcount
            inbox += removed
            if removed < self._batch_size:
                break
        return f"{outbox} published outbox rows and {inbox} handled inbox rows removed"
