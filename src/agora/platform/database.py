"""SQLAlchemy engines, the shared metadata and the SQL unit of work.

SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` for writing units, so concurrent
writers queue on the busy timeout instead of failing on a lock upgrade; read-only
units use a deferred ``BEGIN`` and never block writers. PostgreSQL uses asyncpg with a
bounded pool (see ``docs/runbooks/database.md`` for sizing).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from uuid import UUID

import orjson
from sqlalchemy import JSON, DateTime, MetaData, event, insert
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator

from agora.platform.events import DomainEvent
from agora.platform.settings import Settings

READ_ONLY = "agora_read_only"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class Timestamp(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use agora.platform.clock.utcnow")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")


def plain_uuid(value: UUID) -> UUID:
    """A plain ``uuid.UUID``: asyncpg returns its own subclass, which orjson rejects."""
    return value if type(value) is UUID else UUID(bytes=value.bytes)


def optional_uuid(value: UUID | None) -> UUID | None:
    return None if value is None else plain_uuid(value)


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        return _sqlite_engine(settings)
    return create_async_engine(
        settings.database_url,
        echo=settings.database_echo,
        # orjson decodes jsonb columns (product attributes, event payloads) several times
        # faster than the standard library.
        json_deserializer=orjson.loads,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        pool_recycle=1800,
        pool_pre_ping=False,
        connect_args={
            "server_settings": {"application_name": "agora", "jit": "off"},
            "command_timeout": 30,
        },
    )


def _sqlite_engine(settings: Settings) -> AsyncEngine:
    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        settings.database_url,
        echo=settings.database_echo,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
    )
    busy_timeout = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the driver so that BEGIN can be IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            f"busy_timeout={busy_timeout}",
            "temp_store=MEMORY",
            "cache_size=-32000",
            "mmap_size=134217728",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


class SqlUnitOfWork:
    """A transaction on one connection; subclasses attach their repositories in ``_bind``.

    Writing units take the write lock up front on SQLite; on PostgreSQL they run at
    READ COMMITTED and rely on atomic conditional updates and row locks. Read-only
    units never write: on PostgreSQL each of their statements runs in autocommit (no
    shared snapshot across statements, which the catalog's page-plus-count reads do
    not need); on SQLite they hold a deferred read transaction. A ``snapshot`` unit is a
    read-only unit whose statements all see one instant (REPEATABLE READ on PostgreSQL;
    SQLite's read transaction in WAL mode already is one snapshot), for reads that must
    agree with each other, such as a walk over a whole hash chain.
    """

    connection: AsyncConnection

    def __init__(
        self, engine: AsyncEngine, *, read_only: bool = False, snapshot: bool = False
    ) -> None:
        self._engine = engine
        self._read_only = read_only or snapshot
        self._snapshot = snapshot
        self._events: list[DomainEvent] = []
        self._committed = False

    async def __aenter__(self) -> Self:
        connection = await self._engine.connect()
        if self._read_only:
            options: dict[str, Any] = {READ_ONLY: True}
            if connection.dialect.name == "postgresql":
                # A read needs no transaction of its own on PostgreSQL: autocommit saves
                # the BEGIN and ROLLBACK round trips on every catalog read.
                options["isolation_level"] = "REPEATABLE READ" if self._snapshot else "AUTOCOMMIT"
            connection = await connection.execution_options(**options)
        self.connection = connection
        try:
            await connection.begin()
            self._bind(connection)
        except BaseException:
            await connection.close()
            raise
        return self

    def _bind(self, connection: AsyncConnection) -> None:
        """Create repositories on ``connection``; overridden by each context."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.connection.rollback()
        finally:
            await self.connection.close()

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    async def commit(self) -> None:
        if self._events:
            from agora.platform.tables import outbox_events

            await self.connection.execute(
                insert(outbox_events),
                [
                    {
                        "id": e.id,
                        "name": e.name,
                        "aggregate_id": e.aggregate_id,
                        "payload": e.payload,
                        "occurred_at": e.occurred_at,
                    }
                    for e in self._events
                ],
            )
            self._events.clear()
        await self.connection.commit()
        self._committed = True


UnitOfWorkFactory = Callable[..., SqlUnitOfWork]
