"""Test support for the RabbitMQ transport: the broker, private names, an effect table.

``broker_url`` is ``AGORA_TEST_BROKER_URL``: without it the broker tests skip (the
embedded run has no broker); set but unreachable, they fail. Each test gets its own
exchange and queue prefix (``broker_names``), deleted afterwards, so no test sees
another's messages. ``Effects`` is a consumer whose effect is one row per handled event
in a scratch table, written inside the inbox's transaction: "exactly once in effect" is
counted in the database itself.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from yarl import URL

from agora.bootstrap import Container
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.events.consumers import Consumer, Received

EFFECTS_TABLE = "test_broker_effects"


@pytest.fixture(scope="session")
async def broker_url() -> str:
    url = os.environ.get("AGORA_TEST_BROKER_URL")
    if not url:
        pytest.skip("needs AGORA_TEST_BROKER_URL (a RabbitMQ server)")
    try:
        connection = await aio_pika.connect(url, timeout=5)
    except Exception as exc:  # configured but unreachable: fail, never skip
        pytest.fail(f"RabbitMQ at AGORA_TEST_BROKER_URL is unreachable: {exc!r}")
    await connection.close()
    return url


def broker_port(url: str) -> int:
    return URL(url).port or 5672


@dataclass
class BrokerNames:
    """An exchange and a queue prefix no other test uses; removed at teardown."""

    url: str
    exchange: str
    queue_prefix: str
    queues: set[str] = field(default_factory=set)

    def settings(self, broker_url: str | None = None) -> dict[str, object]:
        return {
            "broker_url": broker_url or self.url,
            "broker_exchange": self.exchange,
            "broker_queue_prefix": self.queue_prefix,
        }

    def queue(self, consumer: str) -> str:
        name = f"{self.queue_prefix}.{consumer}"
        self.queues.add(name)
        return name

    @property
    def dead_queue(self) -> str:
        return self.queue("dead")

    async def message_count(self, queue: str) -> int:
        connection = await aio_pika.connect(self.url, timeout=5)
        try:
            channel = await connection.channel()
            declared = await channel.declare_queue(queue, passive=True)
            count: int = declared.declaration_result.message_count or 0
            return count
        finally:
            await connection.close()

    async def drop(self) -> None:
        connection = await aio_pika.connect(self.url, timeout=5)
        try:
            for queue in sorted(self.queues):
                channel = await connection.channel()
                try:
                    await channel.queue_delete(queue)
                finally:
                    if not channel.is_closed:
                        await channel.close()
            channel = await connection.channel()
            await channel.exchange_delete(self.exchange)
        finally:
            await connection.close()


@pytest.fixture
async def broker_names(broker_url: str) -> AsyncIterator[BrokerNames]:
    suffix = uuid4().hex[:10]
    names = BrokerNames(broker_url, f"agora.test.{suffix}", f"agora-test-{suffix}")
    names.dead_queue  # noqa: B018 - registered for deletion even if never declared here
    yield names
    await names.drop()


# Per module: dropped before the next module runs, so later tests (the schema
# comparison of the migrations test) never see it.
@pytest.fixture(scope="module")
async def effects_table(container: Container) -> AsyncIterator[str]:
    async with container.engine.begin() as conn:
        await conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {EFFECTS_TABLE} ("
                " consumer VARCHAR(100) NOT NULL, event_id VARCHAR(36) NOT NULL,"
                " aggregate_id VARCHAR(36) NOT NULL, seq INTEGER NOT NULL)"
            )
        )
    yield EFFECTS_TABLE
    async with container.engine.begin() as conn:
        await conn.execute(text(f"DROP TABLE IF EXISTS {EFFECTS_TABLE}"))


class Effects:
    """A consumer that writes one effect row per event it handles, and can be told to fail
    (after writing, so a failure must roll the effect back to keep it once)."""

    def __init__(self, engine: AsyncEngine, events: frozenset[str]) -> None:
        self.engine = engine
        self.name = f"test.broker-{uuid4().hex[:8]}"
        self.events = events
        self.fail: Callable[[Received[Any]], bool] = lambda _event: False
        self.calls = 0

    def consumer(self) -> Consumer:
        return Consumer(self.name, self.events, self.handle, "test effects")

    async def handle(self, event: Received[Any]) -> None:
        self.calls += 1
        async with SqlUnitOfWork(self.engine) as uow:  # joins the inbox's transaction
            await uow.connection.execute(
                text(
                    "INSERT INTO test_broker_effects (consumer, event_id, aggregate_id, seq)"
                    " VALUES (:c, :e, :a, :s)"
                ),
                {
                    "c": self.name,
                    "e": str(event.id),
                    "a": str(event.aggregate_id),
                    "s": self.calls,
                },
            )
            await uow.commit()
        if self.fail(event):
            raise RuntimeError(f"cannot handle {event.id} yet")

    async def event_ids(self) -> list[UUID]:
        return [event for event, _ in await self.rows()]

    async def aggregate_ids(self) -> list[UUID]:
        return [aggregate for _, aggregate in await self.rows()]

    async def rows(self) -> list[tuple[UUID, UUID]]:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT event_id, aggregate_id FROM test_broker_effects"
                    " WHERE consumer = :c ORDER BY seq"
                ),
                {"c": self.name},
            )
            return [(UUID(row[0]), UUID(row[1])) for row in result.all()]
