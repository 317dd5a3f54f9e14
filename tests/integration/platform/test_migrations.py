"""Migrations build, from empty, exactly the schema the code's table metadata describes."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from agora.bootstrap import load_metadata
from agora.migrations.schema_filter import include_object


def _diff(connection: Any) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "include_object": include_object},
    )
    return list(compare_metadata(context, load_metadata()))


async def test_migrated_schema_matches_the_metadata(migrated: str) -> None:
    engine = create_async_engine(migrated)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(_diff)
    finally:
        await engine.dispose()
    assert differences == []
