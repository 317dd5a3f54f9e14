"""When the trail cannot be written, no recorded action happens, and refusals are logged.

The database here lacks the audit tables (migrated only up to the revision before them,
or with them dropped from under a migrated shop), so every audit write fails for real
(no such table), as it would with a broken or full disk.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from agora.audit.domain import ChainReport
from agora.bootstrap import build_container
from agora.platform.db.migrations import upgrade
from tests.conftest import make_test_settings
from tests.e2e.served import agora, base_env, serve

BEFORE_AUDIT = "0010"
ADMIN = ("keeper@agora.example", "lantern-orchard-harbour-2026")


async def lose_the_audit_tables(database_url: str) -> None:
    """The trail's storage gone from under a migrated, running shop."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            for table in ("audit_records", "audit_chain_head"):
                await connection.execute(text(f"DROP TABLE {table}"))
    finally:
        await engine.dispose()


def test_a_failed_write_neither_raises_nor_forks_the_chain(fresh_database: str) -> None:
    upgrade(fresh_database, BEFORE_AUDIT)

    async def record(action: str) -> object:
        container = await build_container(make_test_settings(fresh_database))
        try:
            audit = container.infrastructure.audit
            await audit.record(action, target_id="x")
            return await audit.verify() if action == "auth.logout" else None
        finally:
            await container.close()

    assert asyncio.run(record("auth.login")) is None  # no table: logged, not raised
    upgrade(fresh_database)  # the tables arrive: the chain starts at 1, unforked
    report = asyncio.run(record("auth.logout"))
    assert isinstance(report, ChainReport)
    assert (report.intact, report.checked) == (True, 1)


async def sessions_of(database_url: str, email: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                text(
                    "SELECT count(*) FROM refresh_tokens t JOIN users u ON u.id = t.user_id"
                    " WHERE u.email = :email"
                ).bindparams(email=email)
            )
            return int(count or 0)
    finally:
        await engine.dispose()


def test_with_the_trail_down_no_login_happens_unrecorded_and_refusals_go_to_the_log(
    fresh_database: str, tmp_path: Path
) -> None:
    env = base_env(fresh_database, AGORA_LOG_FORMAT="json")
    assert agora("migrate", env=env).returncode == 0
    created = agora("create-admin", "--email", ADMIN[0], "--password", ADMIN[1], env=env)
    assert created.returncode == 0, created.stderr
    asyncio.run(lose_the_audit_tables(fresh_database))
    log_path = tmp_path / "server.log"
    with serve(env, log_path) as served:
        refused = httpx.post(
            f"{served.base_url}/api/v1/auth/login",
            json={"email": ADMIN[0], "password": "not-the-password-at-all"},
            headers={"X-Request-ID": "trail-down-1"},
            timeout=30,
        )
        # The refusal stands: its record has no action to roll back, so it is logged.
        assert refused.status_code == 401, refused.text
        login = httpx.post(
            f"{served.base_url}/api/v1/auth/login",
            json={"email": ADMIN[0], "password": ADMIN[1]},
            headers={"X-Request-ID": "trail-down-2"},
            timeout=30,
        )
        # A session is a recorded action: without its record it does not happen.
        assert login.status_code in (500, 503), login.text
        assert "access_token" not in login.text
    assert asyncio.run(sessions_of(fresh_database, ADMIN[0])) == 0
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    [logged] = [
        line
        for line in lines
        if line.get("event") == "audit_record_not_written"
        and line.get("request_id") == "trail-down-1"
    ]
    assert logged["level"] == "error"
    assert logged["audit_action"] == "auth.login"
    assert logged["audit_outcome"] == "failure"
    assert logged["audit_details"]["reason"] == "bad_password"
    [rolled_back] = [
        line
        for line in lines
        if line.get("event") == "audit_record_not_written"
        and line.get("request_id") == "trail-down-2"
    ]
    assert rolled_back["level"] == "error"
    assert rolled_back["audit_action"] == "auth.login"
    assert rolled_back["action_rolled_back"] is True
    assert ADMIN[1] not in log_path.read_text()
