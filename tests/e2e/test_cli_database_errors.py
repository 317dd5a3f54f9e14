"""Every CLI command facing a database it cannot use says so in one line, with the fix.

Unmigrated (empty), migrated by an older release, and unreachable: the operator reads
what is wrong and the command that fixes it, never a traceback, and the exit code is 2.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from agora.platform.db.migrations import upgrade
from tests.conftest import _admin_execute
from tests.e2e.served import agora, base_env, free_port

COMMANDS = [
    ("seed",),
    ("create-admin", "--email", "ops@example.com", "--password", "violet-harbour-lantern-2026"),
    ("audit", "verify"),
    ("keys", "list"),
    ("jobs", "list"),
    ("keys", "rotate"),
    ("mfa", "reset", "ops@example.com", "--yes"),
    ("serve", "--port", "1"),  # never binds: the check comes first
]


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture(scope="module")
def empty_database(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[str]:
    """A database that exists but was never migrated, on the engine under test."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('empty') / 'agora.db'}"
        return
    name = f"agora_empty_{uuid.uuid4().hex[:12]}"
    server = make_url(database_url).set(database="postgres").render_as_string(False)
    asyncio.run(_admin_execute(server, f'CREATE DATABASE "{name}"'))
    yield make_url(database_url).set(database=name).render_as_string(False)
    asyncio.run(_admin_execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_an_unmigrated_database_is_one_line_naming_agora_migrate(
    empty_database: str, command: tuple[str, ...]
) -> None:
    result = agora(*command, env=base_env(empty_database), timeout=60)
    assert result.returncode == 2, result.stderr
    line = one_line_error(result.stderr)
    assert "has no schema yet: run `agora migrate` first." in line


def test_a_database_of_an_older_release_asks_for_agora_migrate(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0010")
    result = agora("keys", "list", env=base_env(url), timeout=60)
    assert result.returncode == 2, result.stderr
    assert "has an older schema: run `agora migrate` first." in one_line_error(result.stderr)
    # And the fix it names works.
    assert agora("migrate", env=base_env(url), timeout=120).returncode == 0
    assert agora("keys", "list", env=base_env(url), timeout=60).returncode == 0


@pytest.mark.parametrize("command", [("migrate",), *COMMANDS], ids=lambda c: " ".join(c[:2]))
def test_an_unreachable_database_is_one_line_naming_the_setting(
    command: tuple[str, ...],
) -> None:
    # A port nothing listens on: the connection is refused at once.
    url = f"postgresql+asyncpg://agora@127.0.0.1:{free_port()}/agora"
    result = agora(*command, env=base_env(url), timeout=60)
    assert result.returncode == 2, result.stderr
    line = one_line_error(result.stderr)
    assert "cannot reach the database at PostgreSQL 127.0.0.1:" in line
    assert "check AGORA_DATABASE_URL" in line
    assert "agora@" not in line  # the credentials are not echoed
