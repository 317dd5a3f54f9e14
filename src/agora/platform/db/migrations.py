"""Run Alembic programmatically (used by the CLI, ``make run`` and the tests), and tell
whether a database's schema is the one this code expects."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    _ensure_sqlite_directory(database_url)
    command.upgrade(alembic_config(database_url), revision)


def _ensure_sqlite_directory(database_url: str) -> None:
    # SQLite creates the file but not its folder (var/ on a fresh clone).
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


class SchemaState(StrEnum):
    """How a database's schema compares with the migrations this code ships."""

    CURRENT = "current"
    EMPTY = "empty"  # never migrated
    BEHIND = "behind"  # migrated by an older release: ``agora migrate`` brings it up
    AHEAD = "ahead"  # migrated by a newer release than this one


async def schema_state(engine: AsyncEngine) -> SchemaState:
    """Compare the database's Alembic revision with the newest one shipped (one query)."""
    script = ScriptDirectory.from_config(alembic_config(""))
    heads = set(script.get_heads())
    async with engine.connect() as connection:
        current = set(await connection.run_sync(_current_heads))
    if not current:
        return SchemaState.EMPTY
    if current == heads:
        return SchemaState.CURRENT
    known = {revision.revision for revision in script.walk_revisions()}
    return SchemaState.BEHIND if current <= known else SchemaState.AHEAD


def _current_heads(connection: Connection) -> tuple[str, ...]:
    return MigrationContext.configure(connection).get_current_heads()
