"""The scheduled jobs' leases: one row per job in ``scheduled_jobs``.

``acquire`` is one conditional UPDATE (``WHERE name = :n AND (lease_until IS NULL OR
lease_until < :now)``, and ``next_run_at <= :now`` for a scheduled run): of any number
of instances trying at once, the database lets exactly one change the row. On
PostgreSQL a concurrent UPDATE waits for the first to commit and re-checks the
condition on the new row; on SQLite writers are serialised by the write lock. Each
acquisition raises the fencing token, and ``release`` writes only while the row still
carries the holder's token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from agora.platform.db.rows import record_of
from agora.platform.db.tables import scheduled_jobs as j
from agora.platform.db.writers import write_transaction
from agora.platform.jobs.ports import JobState, Lease


class SqlJobLeases:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def register(self, first_runs: Mapping[str, datetime]) -> None:
        if not first_runs:
            return
        rows = [
            {"name": name, "next_run_at": at, "fencing_token": 0} for name, at in first_runs.items()
        ]
        async with write_transaction(self._engine) as conn:
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            await conn.execute(insert(j).values(rows).on_conflict_do_nothing())

    async def acquire(
        self, name: str, owner: str, duration: timedelta, now: datetime, *, due_only: bool
    ) -> Lease | None:
        conditions: list[Any] = [
            j.c.name == name,
            or_(j.c.lease_until.is_(None), j.c.lease_until < now),
        ]
        if due_only:
            conditions.append(j.c.next_run_at <= now)
        until = now + duration
        statement = (
            update(j)
            .where(*conditions)
            .values(
                lease_owner=owner,
                lease_until=until,
                fencing_token=j.c.fencing_token + 1,
                last_started_at=now,
            )
            .returning(j.c.fencing_token)
        )
        async with write_transaction(self._engine) as conn:
            token = (await conn.execute(statement)).scalar_one_or_none()
        return None if token is None else Lease(name, owner, int(token), until)

    async def release(
        self,
        lease: Lease,
        now: datetime,
        outcome: str,
        error: str | None,
        next_run_at: datetime,
    ) -> bool:
        statement = (
            update(j)
            .where(j.c.name == lease.name, j.c.fencing_token == lease.token)
            .values(
                lease_owner=None,
                lease_until=None,
                last_finished_at=now,
                last_outcome=outcome,
                last_error=error,
                next_run_at=next_run_at,
            )
        )
        async with write_transaction(self._engine) as conn:
            return (await conn.execute(statement)).rowcount == 1

    async def states(self, names: Sequence[str] | None = None) -> list[JobState]:
        query = select(j).order_by(j.c.name)
        if names is not None:
            query = query.where(j.c.name.in_(list(names)))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [record_of(JobState, row) for row in rows]
