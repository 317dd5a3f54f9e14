"""``agora audit verify`` against a trail someone tampered with directly in the database.

Each test seeds its own database with records written by the application, then changes
rows with plain SQL, as someone with database access would, first switching off the
append-only triggers (which refuse exactly these statements otherwise).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from typer.testing import CliRunner

from agora.audit.adapters.sql import SqlAuditChain, SqlAuditLog, SqlAuditUnitOfWork
from agora.audit.domain import AuditEntry, AuditRecord
from agora.audit.services import AuditService
from agora.bootstrap import build_container
from agora.cli.main import app
from agora.platform.clock import utcnow
from agora.platform.db.migrations import upgrade
from agora.platform.ids import new_id
from tests.conftest import make_test_settings
from tests.e2e.served import agora, base_env

RECORDS = 5


async def _seed(url: str, count: int) -> None:
    container = await build_container(make_test_settings(url))
    try:
        audit = container.infrastructure.audit
        for n in range(1, count + 1):
            await audit.record(
                "users.role_changed",
                target_type="user",
                target_id=f"user-{n}",
                details={"from": "customer", "to": "staff"},
            )
    finally:
        await container.close()


@pytest.fixture
def trail(fresh_database: str) -> str:
    """A migrated database holding records 1 to 5."""
    upgrade(fresh_database)
    asyncio.run(_seed(fresh_database, RECORDS))
    return fresh_database


async def _tamper(url: str, *statements: str, **params: Any) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await _drop_append_only(conn)
            for statement in statements:
                await conn.execute(text(statement), params)
    finally:
        await engine.dispose()


async def _drop_append_only(conn: AsyncConnection) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(text("ALTER TABLE audit_records DISABLE TRIGGER USER"))
    else:
        await conn.execute(text("DROP TRIGGER audit_records_no_update"))
        await conn.execute(text("DROP TRIGGER audit_records_no_delete"))


def tamper(url: str, *statements: str, **params: Any) -> None:
    asyncio.run(_tamper(url, *statements, **params))


def verify(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["audit", "verify", *args], env={"AGORA_DATABASE_URL": url, "AGORA_LOG_LEVEL": "ERROR"}
    )
    return result.exit_code, result.output


def test_an_intact_trail_verifies_as_a_real_command_and_prints_an_anchor(trail: str) -> None:
    result = agora("audit", "verify", env=base_env(trail))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.fullmatch(
        r"audit chain intact: 5 records, 1 to 5; anchor 5:[0-9a-f]{64}\n", result.stdout
    )


def test_an_empty_trail_is_intact(fresh_database: str) -> None:
    upgrade(fresh_database)
    assert verify(fresh_database) == (0, "audit chain intact: no records yet\n")


def test_an_edited_record_is_named_as_a_real_command(trail: str) -> None:
    tamper(trail, "UPDATE audit_records SET target_id = 'someone-else' WHERE seq = 3")
    result = agora("audit", "verify", env=base_env(trail))
    assert result.returncode == 1
    assert "audit chain broken at record 3" in result.stderr
    assert "record 3 was altered: its contents no longer match its hash" in result.stderr
    assert "records 1 to 2 verified before the break" in result.stderr


def test_edited_details_are_caught(trail: str) -> None:
    tamper(
        trail,
        "UPDATE audit_records SET details = :details WHERE seq = 2",
        details='{"from": "customer", "to": "admin"}',
    )
    code, output = verify(trail)
    assert code == 1
    assert "record 2 was altered" in output


def test_a_deleted_record_is_caught(trail: str) -> None:
    tamper(trail, "DELETE FROM audit_records WHERE seq = 3")
    code, output = verify(trail)
    assert code == 1
    assert "audit chain broken at record 3" in output
    assert "record 3 is missing: the chain jumps to record 4" in output


def test_the_newest_records_deleted_are_caught(trail: str) -> None:
    tamper(trail, "DELETE FROM audit_records WHERE seq >= 4")
    code, output = verify(trail)
    assert code == 1
    assert "records 4 to 5 are missing: the chain head says 5 records were appended" in output


def test_a_record_slipped_in_between_is_caught(trail: str) -> None:
    # Make room at seq 3 and insert a well-formed record there, hash and link included.
    asyncio.run(_insert_forged_at(trail, 3))
    code, output = verify(trail)
    assert code == 1
    assert "audit chain broken at record 4" in output
    assert "record 4 does not link to record 3" in output


def test_a_record_appended_without_the_application_is_caught(trail: str) -> None:
    asyncio.run(_insert_forged_at(trail, RECORDS + 1))
    code, output = verify(trail)
    assert code == 1
    assert "the chain head (record 5) does not match the last record (6)" in output


def test_an_anchor_catches_a_rewrite_that_recomputed_every_hash(trail: str) -> None:
    code, output = verify(trail)
    assert code == 0
    anchor = output.strip().rsplit("anchor ", 1)[1]
    # Rewrite record 2, then re-seal it and everything after it, head included.
    asyncio.run(_rewrite_from(trail, 2))
    assert verify(trail)[0] == 0  # the chain alone is consistent again...
    code, output = verify(trail, "--anchor", anchor)
    assert code == 1  # ...but no longer holds the record the anchor remembers
    assert "record 5 does not match the anchor" in output


def test_a_malformed_anchor_is_a_usage_error(trail: str) -> None:
    code, output = verify(trail, "--anchor", "five:abc")
    assert code == 2
    assert "<seq>:<sha-256 hex>" in output


async def test_the_database_refuses_to_change_or_remove_records(migrated: str) -> None:
    engine = create_async_engine(migrated)
    try:
        service = AuditService(lambda **kw: SqlAuditUnitOfWork(engine, **kw))
        await service.record("test.append_only", target_id="x")
        statements = [
            "UPDATE audit_records SET outcome = 'failure' WHERE action = 'test.append_only'",
            "DELETE FROM audit_records WHERE action = 'test.append_only'",
        ]
        if engine.dialect.name == "postgresql":
            statements.append("TRUNCATE audit_records")
        for statement in statements:
            with pytest.raises(DBAPIError, match="append-only"):
                async with engine.begin() as conn:
                    await conn.execute(text(statement))
        assert (await service.verify()).intact
    finally:
        await engine.dispose()


async def _records(conn: AsyncConnection) -> list[AuditRecord]:
    return list(await SqlAuditLog(conn).after(0, 1000))


async def _insert_forged_at(url: str, seq: int) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await _drop_append_only(conn)
            records = await _records(conn)
            await conn.execute(
                text("UPDATE audit_records SET seq = seq + 1000 WHERE seq >= :seq"), {"seq": seq}
            )
            await conn.execute(text("UPDATE audit_records SET seq = seq - 999 WHERE seq >= 1000"))
            entry = AuditEntry.create(
                "users.role_changed",
                occurred_at=utcnow(),
                target_type="user",
                target_id="intruder",
                details={"from": "customer", "to": "admin"},
            )
            previous = records[seq - 2].hash
            await SqlAuditLog(conn).add(AuditRecord.chained(entry, new_id(), seq, previous))
    finally:
        await engine.dispose()


async def _rewrite_from(url: str, seq: int) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await _drop_append_only(conn)
            records = await _records(conn)
            await conn.execute(text("DELETE FROM audit_records WHERE seq >= :seq"), {"seq": seq})
            previous = records[seq - 2]
            for original in records[seq - 1 :]:
                changed = replace(original, prev_hash=previous.hash)
                if original.seq == seq:
                    changed = replace(changed, details={"from": "customer", "to": "admin"})
                changed = replace(changed, hash=changed.computed_hash())
                await SqlAuditLog(conn).add(changed)
                previous = changed
            await SqlAuditChain(conn).advance(previous)
    finally:
        await engine.dispose()
