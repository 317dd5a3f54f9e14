"""What every CLI command needs: settings with a readable error, a database that is
reachable and migrated (or one clear line saying which and how to fix it), a container."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from agora.bootstrap import Container, build_container
from agora.platform.db.engine import create_engine
from agora.platform.db.migrations import SchemaState, schema_state
from agora.platform.errors import DomainError
from agora.platform.settings import Settings, SettingsError, load_settings

T = TypeVar("T")
console = Console(stderr=True)
# A server that drops packets instead of refusing would otherwise hold a command for a
# minute (asyncpg's own connect timeout).
PREFLIGHT_TIMEOUT_SECONDS = 15


def fail(message: str, code: int = 2) -> NoReturn:
    console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc))


def describe_database(database_url: str) -> str:
    """The database without its credentials: the SQLite path, or PostgreSQL host/name."""
    if database_url.startswith("sqlite"):
        return "SQLite " + database_url.split(":///", 1)[1]
    return "PostgreSQL " + database_url.rsplit("@", 1)[-1]


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    first_line = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first_line}"[:200] if first_line else type(exc).__name__


async def _schema_state_of(settings: Settings) -> SchemaState:
    engine = create_engine(settings)
    try:
        return await asyncio.wait_for(schema_state(engine), PREFLIGHT_TIMEOUT_SECONDS)
    finally:
        await engine.dispose()


async def check_database(settings: Settings, *, need_schema: bool = True) -> None:
    """Exit with one line unless the database answers (and, with ``need_schema``, is at
    the schema this code expects)."""
    where = describe_database(settings.database_url)
    try:
        state = await _schema_state_of(settings)
    except TimeoutError:
        fail(
            f"the database at {where} did not answer within {PREFLIGHT_TIMEOUT_SECONDS} s; "
            "check AGORA_DATABASE_URL and that the server is running."
        )
    except Exception as exc:  # every way of not reaching it reads the same
        fail(
            f"cannot reach the database at {where} ({_root_cause(exc)}); "
            "check AGORA_DATABASE_URL and that the server is running."
        )
    if not need_schema or state is SchemaState.CURRENT:
        return
    if state is SchemaState.AHEAD:
        fail(
            f"the database at {where} was migrated by a newer Agora release than this one; "
            "run that release (or newer) against it."
        )
    what = "has no schema yet" if state is SchemaState.EMPTY else "has an older schema"
    fail(f"the database at {where} {what}: run `agora migrate` first.")


def run_with_container(
    work: Callable[[Container], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Check the database, build the container, run ``work`` with it, close it; domain
    errors exit with 1. ``settings`` spares a command that already loaded them a reload."""
    settings = settings or settings_or_exit()

    async def main() -> T:
        await check_database(settings)
        try:
            container = await build_container(settings)
        except SettingsError as exc:  # a setting only the composition root can judge
            fail(str(exc))
        try:
            return await work(container)
        finally:
            await container.close()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        console.print(f"[bold red]error:[/] {escape(exc.message)}")
        for key, value in exc.details.items():
            console.print(f"  {key}: {escape(str(value))}")
        raise typer.Exit(1) from None
