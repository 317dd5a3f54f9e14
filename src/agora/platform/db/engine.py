"""SQLAlchemy engines for PostgreSQL (asyncpg) and SQLite (aiosqlite).

SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` for writing units, so concurrent
writers queue on the busy timeout instead of failing on a lock upgrade; read-only
units use a deferred ``BEGIN`` and never block writers. PostgreSQL uses asyncpg with a
bounded pool (see ``docs/runbooks/database.md`` for sizing).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from agora.platform.db.writers import queue_writers
from agora.platform.settings import Settings

READ_ONLY = "agora_read_only"


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


async def ping_database(engine: AsyncEngine) -> None:
    """The readiness probe: the database answers a query."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


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
    queue_writers(engine, busy_timeout / 1000)

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
