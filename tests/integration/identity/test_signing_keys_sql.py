"""Signing keys in the real database (SQLite or PostgreSQL): first start, rotation, races.

Each test gets a database of its own, migrated from empty, because the shared test
database already holds the keys the app under test signs with.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Uuid, bindparam, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from agora.identity.adapters.sql import SqlIdentityUnitOfWork
from agora.identity.adapters.tables import users
from agora.identity.sessions.adapters.tables import refresh_tokens
from agora.identity.tokens.adapters.jwt_tokens import JwtAccessTokens
from agora.identity.tokens.adapters.key_material import KeyCipher
from agora.identity.tokens.adapters.key_ring import KeyRing
from agora.identity.tokens.adapters.tables import signing_keys
from agora.identity.tokens.ports import KeyRotation
from agora.platform.access import Role
from agora.platform.db.engine import create_engine
from agora.platform.db.migrations import upgrade
from agora.platform.db.schema import Timestamp
from agora.platform.errors import ConflictError
from tests.conftest import _admin_execute, make_test_settings

SECRET = "integration-secret-" + "0123456789abcdef" * 3
RETENTION = timedelta(minutes=16)

RACER = """
import asyncio, sys, time
from datetime import timedelta
from functools import partial
from agora.identity.adapters.sql import SqlIdentityUnitOfWork
from agora.identity.tokens.adapters.key_material import KeyCipher
from agora.identity.tokens.adapters.key_ring import KeyRing
from agora.platform.db.schema import Timestamp
from agora.platform.db.engine import create_engine
from agora.platform.settings import load_settings

async def main(url: str, start: float) -> None:
    engine = create_engine(load_settings(database_url=url, environment="test"))
    ring = KeyRing(
        partial(SqlIdentityUnitOfWork, engine), KeyCipher(sys.argv[3]),
        retention=timedelta(minutes=16), refresh_interval=60,
    )
    await asyncio.sleep(max(0.0, start - time.time()))
    await ring.sync()
    print(ring.signer()[0])
    await engine.dispose()

asyncio.run(main(sys.argv[1], float(sys.argv[2])))
"""


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of its own, with no schema yet."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
        return
    server = os.environ["AGORA_TEST_DATABASE_URL"]
    name = f"agora_keys_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin_execute(server, f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(drivername="postgresql+asyncpg", database=name)
    yield url.render_as_string(hide_password=False)
    asyncio.run(_admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fresh_database(empty_database: str) -> str:
    upgrade(empty_database)
    return empty_database


@pytest.fixture
async def engines(fresh_database: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two engines on one database: two processes' connection pools."""
    settings = make_test_settings(fresh_database)
    first, second = create_engine(settings), create_engine(settings)
    yield first, second
    await first.dispose()
    await second.dispose()


def _ring(engine: AsyncEngine, *, secret: str = SECRET) -> KeyRing:
    return KeyRing(
        partial(SqlIdentityUnitOfWork, engine),
        KeyCipher(secret),
        retention=RETENTION,
        refresh_interval=60,
    )


async def _rows(engine: AsyncEngine) -> list[tuple[str, bool | None]]:
    async with engine.connect() as conn:
        result = await conn.execute(select(signing_keys.c.kid, signing_keys.c.active))
        rows = [(kid, active) for kid, active in result]
        await conn.rollback()
        return rows


async def test_two_processes_starting_at_once_create_exactly_one_key(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    first, second = engines
    rings = [_ring(first), _ring(second), _ring(first), _ring(second)]
    await asyncio.gather(*(ring.sync() for ring in rings))
    rows = await _rows(first)
    assert len(rows) == 1
    assert rows[0][1] is True
    assert {ring.signer()[0] for ring in rings} == {rows[0][0]}


def test_real_processes_racing_on_an_empty_database_agree_on_one_key(
    fresh_database: str,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_")}
    start = time.time() + 2.0
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, fresh_database, str(start), SECRET],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    kids = set()
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        kids.add(out.strip().splitlines()[-1])  # after any log lines
    assert len(kids) == 1

    async def count() -> list[tuple[str, bool | None]]:
        engine = create_engine(make_test_settings(fresh_database))
        try:
            return await _rows(engine)
        finally:
            await engine.dispose()

    rows = asyncio.run(count())
    assert rows == [(kids.pop(), True)]


async def test_a_rotation_in_one_process_reaches_another_through_the_database(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    first, second = engines
    cli, app = _ring(first), _ring(second)
    await app.sync()
    app_tokens = JwtAccessTokens(app, issuer="agora", audience="agora-api", ttl_seconds=900)
    old = app_tokens.issue(uuid.uuid4(), Role.CUSTOMER, uuid.uuid4())
    rotation = await cli.rotate()
    assert rotation.retired == [app.signer()[0]]
    await app.sync()
    assert app.signer()[0] == rotation.new.kid
    assert app_tokens.verify(old)  # the retired key still verifies its tokens
    rows = dict(await _rows(first))
    assert rows == {rotation.retired[0]: None, rotation.new.kid: True}
    states = {k.kid: k.state for k in await app.list_keys()}
    assert states == {rotation.retired[0]: "verifying", rotation.new.kid: "active"}


async def test_concurrent_rotations_leave_exactly_one_active_key(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    first, second = engines
    a, b = _ring(first), _ring(second)
    await a.sync()
    outcomes = await asyncio.gather(a.rotate(), b.rotate(), return_exceptions=True)
    assert all(isinstance(o, KeyRotation | ConflictError) for o in outcomes), outcomes
    assert any(isinstance(o, KeyRotation) for o in outcomes)
    rows = await _rows(first)
    assert [kid for kid, active in rows if active] != []
    assert len([kid for kid, active in rows if active]) == 1


async def test_dropping_previous_keys_deletes_them_from_the_database(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    first, _ = engines
    ring = _ring(first)
    await ring.sync()
    await ring.rotate()
    rotation = await ring.rotate(drop_previous=True)
    assert len(rotation.dropped) == 2
    assert await _rows(first) == [(rotation.new.kid, True)]


async def test_keys_retired_past_the_window_are_purged_by_the_next_rotation(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    first, _ = engines
    short = KeyRing(
        partial(SqlIdentityUnitOfWork, first),
        KeyCipher(SECRET),
        retention=timedelta(milliseconds=200),
        refresh_interval=60,
    )
    await short.sync()
    original = short.signer()[0]
    await short.rotate()
    await asyncio.sleep(0.25)
    rotation = await short.rotate()
    assert original in rotation.dropped
    assert original not in dict(await _rows(first))


async def test_the_private_key_at_rest_is_ciphertext_only_this_secret_opens(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    first, second = engines
    ring = _ring(first)
    await ring.sync()
    async with first.connect() as conn:
        stored = (await conn.execute(select(signing_keys))).one()
        await conn.rollback()
    assert stored.private_key_encrypted.startswith("v1.")
    assert "PRIVATE KEY" not in stored.private_key_encrypted
    assert stored.public_key.startswith("-----BEGIN PUBLIC KEY-----")
    assert stored.algorithm == "ES256"
    other = _ring(second, secret="another-secret-" + "9" * 40)
    await other.sync()
    with pytest.raises(Exception, match="cannot be issued"):
        other.signer()


def test_sessions_open_before_the_upgrade_survive_it_as_bearer_sessions(
    empty_database: str,
) -> None:
    upgrade(empty_database, "0006")
    user_id, token_id, family_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    created = datetime.now(UTC) - timedelta(days=2)

    async def seed_and_read() -> Any:
        engine = create_engine(make_test_settings(empty_database))
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    insert(users).values(
                        id=user_id, email=f"{user_id.hex}@example.com", name="Old",
                        password_hash="x", role="customer", is_active=True,
                        email_verified_at=None, created_at=created, updated_at=created,
                        version=1,
                    )
                )  # fmt: skip
                await conn.execute(
                    text(
                        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, "
                        "created_at, expires_at) VALUES (:id, :user, :family, :hash, :c, :e)"
                    ).bindparams(
                        bindparam("id", type_=Uuid()),
                        bindparam("user", type_=Uuid()),
                        bindparam("family", type_=Uuid()),
                        bindparam("c", type_=Timestamp()),
                        bindparam("e", type_=Timestamp()),
                    ),
                    {
                        "id": token_id, "user": user_id, "family": family_id, "hash": "h" * 64,
                        "c": created, "e": created + timedelta(days=30),
                    },
                )  # fmt: skip
            await asyncio.to_thread(upgrade, empty_database)
            async with engine.connect() as conn:
                row = (await conn.execute(select(refresh_tokens))).one()
                await conn.rollback()
                return row
        finally:
            await engine.dispose()

    row = asyncio.run(seed_and_read())
    assert row.kind == "bearer"
    assert row.session_started_at == row.last_used_at == row.created_at
