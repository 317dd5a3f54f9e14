"""``agora worker`` with a broker URL, as production runs it: it declares every
consumer's queue, publishes what the shop committed to RabbitMQ (rows marked published
only after the confirms) and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from uuid import UUID, uuid4

import aio_pika
from sqlalchemy import select

from agora.bootstrap import Container
from agora.platform.db.tables import outbox_events
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.events import DomainEvent
from tests.e2e.served import base_env
from tests.support.broker import BrokerNames


async def _published_at(container: Container, event_id: UUID) -> object:
    async with container.engine.connect() as conn:
        return (
            await conn.execute(
                select(outbox_events.c.published_at).where(outbox_events.c.id == event_id)
            )
        ).scalar_one()


async def test_the_worker_publishes_committed_events_to_rabbitmq_and_stops_on_sigterm(
    container: Container, broker_names: BrokerNames
) -> None:
    await container.events.backbone.drain()  # what other tests left, first
    queue = broker_names.queue("ordering.refund-due")
    observer = broker_names.queue("observer")
    connection = await aio_pika.connect(broker_names.url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(
        broker_names.exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    seen = await channel.declare_queue(observer, durable=True)
    await seen.bind(exchange, routing_key="identity.UserRegistered")
    env = base_env(
        container.settings.database_url.replace("postgresql+asyncpg", "postgresql"),
        AGORA_BROKER_URL=broker_names.url,
        AGORA_BROKER_EXCHANGE=broker_names.exchange,
        AGORA_BROKER_QUEUE_PREFIX=broker_names.queue_prefix,
        AGORA_EVENTS_POLL_SECONDS="0.2",
    )
    worker = subprocess.Popen(  # noqa: ASYNC220 - a long-running child, stopped below
        [sys.executable, "-m", "agora.cli.main", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        user = uuid4()
        event = DomainEvent(
            "identity.UserRegistered",
            user,
            {"user_id": str(user), "email": "w@example.com", "role": "customer"},
        )
        async with SqlUnitOfWork(container.engine) as uow:
            uow.record(event)
            await uow.commit()
        deadline = time.monotonic() + 20
        while await _published_at(container, event.id) is None:
            assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
            assert time.monotonic() < deadline, "the worker did not publish the event"
            await asyncio.sleep(0.1)
        message = await seen.get(timeout=5, fail=True)
        assert message is not None
        assert message.message_id == str(event.id)
        await message.ack()
        # Every consumer's queue exists, with the worker subscribed to it.
        declared = await channel.declare_queue(queue, passive=True)
        assert declared.declaration_result.consumer_count == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        await connection.close()
    assert worker.returncode == 0, output
    assert "delivering through RabbitMQ" in " ".join(output.split())  # the console wraps
    assert "worker_stopping" in output
