"""Shared fixtures: one migrated database per run, the real composition root, an API client.

The database is SQLite in a temporary directory by default. Set
``AGORA_TEST_DATABASE_URL`` to a PostgreSQL server URL to run the same suite there: a
fresh database named ``agora_test_<random>`` is created for the run and dropped after.
``AGORA_TEST_REDIS_URL`` and ``AGORA_TEST_BROKER_URL`` point the Redis and RabbitMQ tests
at real servers. A configured service that cannot be reached fails the run.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from agora.app import create_app
from agora.bootstrap import Container, build_container
from agora.platform.db.migrations import upgrade
from agora.platform.settings import Settings, load_settings

pytest_plugins = ["anyio", "tests.support.accounts", "tests.support.catalog"]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


async def _admin_execute(server_url: str, statement: str) -> None:
    url = make_url(server_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False), timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def postgres_database(server: str, prefix: str = "agora_test") -> Iterator[str]:
    """A fresh database named ``<prefix>_<random>`` on ``server``, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin_execute(server, f'CREATE DATABASE "{name}"'))
    except OSError as exc:  # unreachable server: fail loudly, never skip
        pytest.exit(f"PostgreSQL at AGORA_TEST_DATABASE_URL is unreachable: {exc}", returncode=3)
    url = make_url(server).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = os.environ.get("AGORA_TEST_DATABASE_URL")
    if not server:
        path: Path = tmp_path_factory.mktemp("db") / "agora-test.db"
        yield f"sqlite+aiosqlite:///{path}"
        return
    with postgres_database(server) as url:
        yield url


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


def make_test_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        # Enough for the 50-way concurrency tests to queue, well under max_connections.
        "database_pool_size": 10,
        "database_max_overflow": 20,
        # Cheap hashing keeps the suite fast; production parameters are the defaults.
        "password_hash_memory_kib": 1024,
        "password_hash_time_cost": 1,
        "access_log": False,
        "log_level": "WARNING",
        "redis_url": None,
        "broker_url": None,
        "max_body_bytes": 65_536,
        # The suite is one client making hundreds of calls; the limits have their own tests.
        "rate_limit_auth_per_minute": 1_000_000,
        "rate_limit_api_per_minute": 1_000_000,
        # Likewise one client address failing logins all run long; throttling has its own tests.
        "login_throttle_account_threshold": 1_000_000,
        "login_throttle_ip_threshold": 1_000_000,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_test_settings(database_url)


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    upgrade(database_url)
    return database_url


@pytest.fixture(scope="session")
async def container(settings: Settings, migrated: str) -> AsyncIterator[Container]:
    built = await build_container(settings)
    yield built
    await built.close()


@pytest.fixture(scope="session")
def app(container: Container) -> object:
    return create_app(container.settings, container=container)


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    container: Container = app.state.container  # type: ignore[attr-defined]

    async def deliver_mail_first(request: httpx.Request) -> None:
        # Mail is sent by the events backbone, which no lifespan runs here: reading the
        # development mailbox drains it first, as a running instance would have.
        if request.url.path.startswith("/dev/mailbox"):
            await container.events.backbone.drain()

    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        event_hooks={"request": [deliver_mail_first]},
    ) as http:
        yield http


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Run every ``async def`` test on asyncio without marking each one."""
    if inspect.iscoroutinefunction(obj) and name.startswith("test"):
        pytest.mark.anyio(obj)
