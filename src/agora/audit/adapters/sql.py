"""SQL storage of the audit trail: the append-only records and the locked chain head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from agora.audit.adapters.tables import audit_chain_head, audit_records
from agora.audit.domain import GENESIS_HASH, AuditQuery, AuditRecord, ChainHead
from agora.platform.db.rows import record_of, values_of
from agora.platform.db.transaction import SqlUnitOfWork

HEAD_ID = 1


def _record(row: Any) -> AuditRecord:
    return record_of(AuditRecord, row, details=row.details if row.details is not None else {})


class SqlAuditLog:
    """The records. Only INSERT and SELECT: the database refuses anything else by trigger."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, record: AuditRecord) -> None:
        await self._conn.execute(
            insert(audit_records).values(values_of(record, details=dict(record.details)))
        )

    async def search(
        self, query: AuditQuery, offset: int, limit: int
    ) -> tuple[Sequence[AuditRecord], int]:
        conditions = _conditions(query)
        rows = await self._conn.execute(
            select(audit_records)
            .where(*conditions)
            .order_by(audit_records.c.seq.desc())
            .offset(offset)
            .limit(limit)
        )
        found = [_record(row) for row in rows]
        if offset == 0 and len(found) < limit:
            return found, len(found)
        total = await self._conn.scalar(
            select(func.count()).select_from(audit_records).where(*conditions)
        )
        return found, int(total or 0)

    async def after(self, seq: int, limit: int) -> Sequence[AuditRecord]:
        rows = await self._conn.execute(
            select(audit_records)
            .where(audit_records.c.seq > seq)
            .order_by(audit_records.c.seq)
            .limit(limit)
        )
        return [_record(row) for row in rows]


def _conditions(query: AuditQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.actor_id is not None:
        conditions.append(audit_records.c.actor_id == query.actor_id)
    if query.action is not None:
        conditions.append(audit_records.c.action == query.action)
    if query.since is not None:
        conditions.append(audit_records.c.occurred_at >= query.since)
    if query.until is not None:
        conditions.append(audit_records.c.occurred_at < query.until)
    return conditions


class SqlAuditChain:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def lock_head(self) -> ChainHead:
        # FOR UPDATE queues concurrent appenders on PostgreSQL; on SQLite the writing unit's
        # BEGIN IMMEDIATE already holds the database's single write lock.
        statement = (
            select(audit_chain_head.c.seq, audit_chain_head.c.hash)
            .where(audit_chain_head.c.id == HEAD_ID)
            .with_for_update()
        )
        row = (await self._conn.execute(statement)).first()
        if row is None:  # migration 0011 creates the row; a bare create_all() does not
            await self._conn.execute(self._create_head())
            row = (await self._conn.execute(statement)).first()
            assert row is not None
        return ChainHead(int(row.seq), row.hash)

    async def head(self) -> ChainHead:
        row = (
            await self._conn.execute(
                select(audit_chain_head.c.seq, audit_chain_head.c.hash).where(
                    audit_chain_head.c.id == HEAD_ID
                )
            )
        ).first()
        return ChainHead() if row is None else ChainHead(int(row.seq), row.hash)

    async def advance(self, record: AuditRecord) -> None:
        await self._conn.execute(
            update(audit_chain_head)
            .where(audit_chain_head.c.id == HEAD_ID)
            .values(seq=record.seq, hash=record.hash)
        )

    def _create_head(self) -> Any:
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        return (
            dialect.insert(audit_chain_head)
            .values(id=HEAD_ID, seq=0, hash=GENESIS_HASH)
            .on_conflict_do_nothing(index_elements=["id"])
        )


class SqlAuditUnitOfWork(SqlUnitOfWork):
    """Writing units append; ``snapshot`` units read head and records as of one instant."""

    records: SqlAuditLog
    chain: SqlAuditChain

    def _bind(self, connection: AsyncConnection) -> None:
        self.records = SqlAuditLog(connection)
        self.chain = SqlAuditChain(connection)
