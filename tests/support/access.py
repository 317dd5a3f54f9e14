"""Test support for user administration and API keys.

``RecordingAuditTrail`` captures what the services hand to the audit port (swapped in
with ``recording_audit``); ``create_api_key`` goes through the REST API;
``isolated_platform`` builds a whole platform on a database of its own, for tests that
need to know every account in it (the shared database holds admins of other tests).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from agora.app import create_app
from agora.bootstrap import Container, build_container
from agora.identity.access.api_keys import ApiKeyService
from agora.identity.access.users import UserAdministration
from agora.platform.db.migrations import upgrade
from tests.conftest import make_test_settings
from tests.fakes import RecordingAuditTrail
from tests.support.accounts import Account


@contextmanager
def recording_audit(container: Container) -> Iterator[RecordingAuditTrail]:
    """Point the admin and API-key services at a recorder for the duration of a test."""
    recorder = RecordingAuditTrail()
    services = [container.registry.get(UserAdministration), container.registry.get(ApiKeyService)]
    saved = [service.audit for service in services]
    for service in services:
        service.audit = recorder
    try:
        yield recorder
    finally:
        for service, audit in zip(services, saved, strict=True):
            service.audit = audit


async def create_api_key(
    client: httpx.AsyncClient,
    account: Account,
    scopes: list[str] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A key of ``account`` through the API; the returned data holds the key itself."""
    body: dict[str, Any] = {"name": f"key-{uuid.uuid4().hex[:8]}", "scopes": scopes or []}
    body.update(overrides)
    response = await client.post("/api/v1/api-keys", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def x_api_key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


async def _postgres(server_url: str, statement: str) -> None:
    import asyncpg

    url = make_url(server_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False), timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@dataclass
class Platform:
    container: Container
    client: httpx.AsyncClient


@asynccontextmanager
async def isolated_platform(tmp_path: Path) -> AsyncIterator[Platform]:
    """A migrated database of its own (SQLite file or PostgreSQL database), app and client."""
    server = os.environ.get("AGORA_TEST_DATABASE_URL")
    name = f"agora_test_{uuid.uuid4().hex[:12]}"
    if server:
        await _postgres(server, f'CREATE DATABASE "{name}"')
        url = make_url(server).set(drivername="postgresql+asyncpg", database=name)
        database_url = url.render_as_string(hide_password=False)
    else:
        database_url = f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
    try:
        await asyncio.to_thread(upgrade, database_url)  # Alembic runs its own event loop
        container = await build_container(make_test_settings(database_url))
        try:
            app = create_app(container.settings, container=container)
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield Platform(container, c)
        finally:
            await container.close()
    finally:
        if server:
            await _postgres(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
