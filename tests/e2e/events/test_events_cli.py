"""``agora events`` on a database of its own holding two dead letters: one event the
relay refused (its payload breaks its schema) and one the refund consumer gave up on
(a copy a broker delivered that no schema accepts)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from click.testing import Result
from typer.testing import CliRunner

from agora.audit.domain import AuditQuery
from agora.bootstrap import build_container
from agora.cli.main import app
from agora.platform.access import Permission, Principal, Role
from agora.platform.db.inbox import SqlInbox
from agora.platform.db.migrations import upgrade
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.events import DomainEvent, EventMessage
from agora.platform.events.operations import CLI
from agora.platform.ids import new_id
from tests.conftest import make_test_settings

REFUNDS = "ordering.refund-due"


async def _seed(url: str) -> dict[str, UUID]:
    container = await build_container(make_test_settings(url))
    try:
        refused = DomainEvent(
            "identity.UserRegistered", uuid4(), {"user_id": "nobody", "email": 42}
        )
        async with SqlUnitOfWork(container.engine) as uow:
            uow.record(refused)
            await uow.commit()
        garbled = EventMessage(
            new_id(), "ordering.OrderCancelled", 1, uuid4(), 1, datetime.now(UTC), {"x": 1}
        )
        await SqlInbox(container.engine).receive(REFUNDS, [garbled])
        await container.events.backbone.drain()
        return {"relay": refused.id, REFUNDS: garbled.id}
    finally:
        await container.close()


async def _audit(url: str, action: str) -> list[Any]:
    container = await build_container(make_test_settings(url))
    try:
        auditor = Principal(new_id(), Role.ADMIN, None, frozenset({Permission.AUDIT_READ}))
        found, _ = await container.infrastructure.audit.query(
            auditor, AuditQuery(None, action, None, None), 0, 100
        )
        return list(found)
    finally:
        await container.close()


@pytest.fixture
def letters(fresh_database: str) -> dict[str, UUID]:
    upgrade(fresh_database)
    return asyncio.run(_seed(fresh_database))


def events(url: str, *args: str, input: str | None = None) -> Result:
    env = {"AGORA_DATABASE_URL": url, "AGORA_LOG_LEVEL": "ERROR", "COLUMNS": "200"}
    return CliRunner().invoke(app, ["events", *args], env=env, input=input)


def status(url: str) -> dict[str, Any]:
    result = events(url, "status", "--json")
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_status_counts_both_dead_letters(fresh_database: str, letters: dict[str, UUID]) -> None:
    found = status(fresh_database)
    assert found["dead_letters"] == 2
    assert found["unpublished"] == 0
    (refunds,) = [c for c in found["consumers"] if c["consumer"] == REFUNDS]
    assert (refunds["dead"], refunds["pending"]) == (1, 0)

    table = events(fresh_database, "status")
    assert table.exit_code == 0
    assert "Outbox" in table.stdout
    assert REFUNDS in table.stdout


def test_list_shows_each_letter_with_its_error(
    fresh_database: str, letters: dict[str, UUID]
) -> None:
    result = events(fresh_database, "dlq", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = {line["consumer"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert set(listed) == {"relay", REFUNDS}
    assert listed["relay"]["event_id"] == str(letters["relay"])
    assert "email" in listed["relay"]["last_error"]
    assert listed[REFUNDS]["event_id"] == str(letters[REFUNDS])

    only_relay = events(fresh_database, "dlq", "list", "--consumer", "relay", "--json")
    assert [json.loads(line)["consumer"] for line in only_relay.stdout.splitlines()] == ["relay"]
    table = events(fresh_database, "dlq", "list")
    assert "Dead letters (2 of 2)" in table.stdout


def test_replay_puts_a_letter_back_and_a_drain_tries_it_again(
    fresh_database: str, letters: dict[str, UUID]
) -> None:
    replayed = events(fresh_database, "dlq", "replay", str(letters["relay"]))
    assert replayed.exit_code == 0, replayed.output
    assert "replayed 1 dead letter" in replayed.stderr
    assert status(fresh_database)["unpublished"] == 1

    drained = events(fresh_database, "drain", "--timeout", "10")
    assert drained.exit_code == 0, drained.output
    # Still broken (no fix was deployed): the relay refuses it again.
    assert status(fresh_database)["dead_letters"] == 2
    (record,) = asyncio.run(_audit(fresh_database, "events.dead_letters.replay"))
    assert record.actor_id is None
    assert record.details["actor"] == "cli"
    assert record.details["ids"] == [str(letters["relay"])]


def test_purge_asks_first_and_drops_letters_for_good(
    fresh_database: str, letters: dict[str, UUID]
) -> None:
    declined = events(fresh_database, "dlq", "purge", "--all", input="n\n")
    assert declined.exit_code == 1
    assert status(fresh_database)["dead_letters"] == 2

    recent = events(fresh_database, "dlq", "purge", "--all", "--older-than", "1", "--yes")
    assert "purged 0" in recent.stderr
    one = events(fresh_database, "dlq", "purge", "--all", "--consumer", REFUNDS, input="y\n")
    assert one.exit_code == 0, one.output
    assert "purged 1" in one.stderr
    assert status(fresh_database)["dead_letters"] == 1

    rest = events(fresh_database, "dlq", "purge", "--all", "--yes")
    assert "purged 1" in rest.stderr
    assert status(fresh_database)["dead_letters"] == 0
    counts = [
        r.details["count"] for r in asyncio.run(_audit(fresh_database, "events.dead_letters.purge"))
    ]
    assert counts == [1, 1, 0]  # newest first; the declined purge left no record


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("dlq", "replay"), 2, "give an event ID or --all"),
        (("dlq", "replay", "not-a-uuid"), 2, "is not an event id"),
        (("dlq", "replay", str(uuid4()), "--all"), 2, "give an event ID or --all"),
        (("dlq", "replay", str(uuid4())), 1, "is not a dead letter"),
        (("dlq", "list", "--consumer", "no.such-consumer"), 1, "No consumer"),
        (("dlq", "list", "--limit", "0"), 2, "--limit"),
        (("dlq", "purge", "--all", "--older-than", "-1", "--yes"), 2, "--older-than"),
        (("drain", "--timeout", "0"), 2, "--timeout"),
    ],
)
def test_bad_input_exits_non_zero_with_a_reason(
    fresh_database: str, letters: dict[str, UUID], args: tuple[str, ...], code: int, message: str
) -> None:
    result = events(fresh_database, *args)
    assert result.exit_code == code, result.output
    assert message in result.output


async def _pages(url: str) -> list[tuple[list[str], int]]:
    container = await build_container(make_test_settings(url))
    try:
        operations = container.events.operations
        pages = []
        for offset in range(3):
            found, total = await operations.dead_letters(CLI, limit=1, offset=offset)
            pages.append(([letter.consumer for letter in found], total))
        return pages
    finally:
        await container.close()


def test_pages_run_through_the_relays_letters_then_the_consumers(
    fresh_database: str, letters: dict[str, UUID]
) -> None:
    assert asyncio.run(_pages(fresh_database)) == [(["relay"], 2), ([REFUNDS], 2), ([], 2)]


def test_an_unreachable_database_is_one_line_and_exit_2() -> None:
    result = events("postgresql://nobody@127.0.0.1:9/agora", "status")
    assert result.exit_code == 2
    assert "cannot reach the database" in result.stderr
