"""Consumers' queues into their inboxes: the broker side of at-least-once, made once.

Per consumer, a durable quorum queue ``<prefix>.<consumer>`` bound to the names of the
events it subscribes to. Deliveries are taken in batches: each is parsed and checked
against the catalogue, the batch is kept in the consumer's inbox in one transaction
(``Inbox.receive`` ignores an event id it already has, so a redelivered or twice
published event is stored once), then acknowledged, then the consumer's runner is woken.
Nothing is acknowledged before the inbox committed it: a subscriber that dies in between
gets the batch again, and the inbox ignores what it already kept.

A delivery that is not an event message, or names an event the catalogue does not
declare, is copied to the dead queue ``<prefix>.dead`` with the reason and acknowledged:
it never blocks the queue and is never redelivered forever. While the database is
away the batch in hand is kept unacknowledged and retried with backoff; the prefetch
bounds how much the broker hands out meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from agora.platform.broker.topology import Topology
from agora.platform.events.catalogue import EventCatalogue, EventSchemaError
from agora.platform.events.consumers import Consumer
from agora.platform.events.model import EventMessage, MalformedMessageError
from agora.platform.events.ports import Inbox
from agora.platform.events.retry import RetryPolicy, describe_error
from agora.platform.logging import get_logger

log = get_logger("agora.events.broker")

# Deliveries kept in the inbox in one transaction at most.
_BATCH = 100


class RabbitSubscriber:
    def __init__(
        self,
        url: str,
        topology: Topology,
        consumers: Sequence[Consumer],
        inbox: Inbox,
        catalogue: EventCatalogue,
        *,
        on_received: Callable[[str], None] = lambda _consumer: None,
        prefetch: int = 200,
        reconnect: RetryPolicy | None = None,
    ) -> None:
        self._url = url
        self._topology = topology
        self._consumers = tuple(consumers)
        self._inbox = inbox
        self._catalogue = catalogue
        self._on_received = on_received
        self._prefetch = prefetch
        self._reconnect = reconnect or RetryPolicy(base_seconds=0.5, max_seconds=5.0)
        self._connection: AbstractRobustConnection | None = None
        # Set once every consumer's queue is declared, bound and consumed.
        self.connected = asyncio.Event()
        self._consuming: set[str] = set()

    async def run(self) -> None:
        """Connect (retrying until the broker answers), declare, consume until cancelled.
        Once connected, the robust connection restores channels and consumers itself."""
        failures = 0
        while self._connection is None:
            try:
                self._connection = await self._connect()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning(
                    "broker_subscriber_connect_failed", attempt=failures, error=describe_error(exc)
                )
                await asyncio.sleep(self._reconnect.delay(failures))
        try:
            async with asyncio.TaskGroup() as group:
                for consumer in self._consumers:
                    group.create_task(self._consume(self._connection, consumer))
        finally:
            await self.close()

    async def _connect(self) -> AbstractRobustConnection:
        return await aio_pika.connect_robust(
            self._url,
            timeout=5.0,
            reconnect_interval=1.0,
            client_properties={"connection_name": "agora subscriber"},
        )

    async def _consume(self, connection: AbstractRobustConnection, consumer: Consumer) -> None:
        failures = 0
        while True:
            try:
                await self._subscribe(connection, consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # lost mid-way: what was not acked comes again
                failures += 1
                log.warning(
                    "broker_subscriber_failed",
                    consumer=consumer.name,
                    attempt=failures,
                    error=describe_error(exc),
                )
                await asyncio.sleep(self._reconnect.delay(failures))

    async def _subscribe(self, connection: AbstractRobustConnection, consumer: Consumer) -> None:
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=self._prefetch)
        exchange = await self._topology.declare_exchange(channel)
        await self._topology.declare_dead_queue(channel)
        queue = await self._topology.declare_consumer_queue(
            channel, exchange, consumer.name, set(consumer.events)
        )
        arrived: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()

        async def on_message(delivery: AbstractIncomingMessage) -> None:
            arrived.put_nowait(delivery)

        tag = await queue.consume(on_message, no_ack=False)
        log.info("broker_subscribed", consumer=consumer.name, queue=queue.name)
        self._consuming.add(consumer.name)
        if len(self._consuming) == len(self._consumers):
            self.connected.set()
        try:
            while True:
                batch = [await arrived.get()]
                while len(batch) < _BATCH and not arrived.empty():
                    batch.append(arrived.get_nowait())
                await self._take(channel, consumer, batch)
        finally:
            with contextlib.suppress(Exception):
                await queue.cancel(tag)
            with contextlib.suppress(Exception):
                await channel.close()

    async def _take(
        self,
        channel: aio_pika.abc.AbstractChannel,
        consumer: Consumer,
        batch: list[AbstractIncomingMessage],
    ) -> None:
        messages: list[EventMessage] = []
        deliveries: list[AbstractIncomingMessage] = []
        for delivery in batch:
            try:
                message = self._parse(delivery)
            except (MalformedMessageError, EventSchemaError) as exc:
                await self._bury(channel, consumer, delivery, str(exc))
                continue
            deliveries.append(delivery)
            if consumer.wants(message.name):
                messages.append(message)
            else:  # a binding left from an earlier subscription: not this consumer's
                log.info("broker_message_ignored", consumer=consumer.name, name=message.name)
        if messages:
            await self._keep(consumer, messages)
        for delivery in deliveries:  # only now: the inbox has them
            await _ack(delivery)
        if messages:
            self._on_received(consumer.name)

    def _parse(self, delivery: AbstractIncomingMessage) -> EventMessage:
        message = EventMessage.from_bytes(delivery.body)
        self._catalogue.check(message)
        return message

    async def _keep(self, consumer: Consumer, messages: list[EventMessage]) -> None:
        """Into the inbox, retried with backoff while the database is away: nothing is
        acknowledged before the inbox has it."""
        failures = 0
        while True:
            try:
                await self._inbox.receive(consumer.name, messages)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning(
                    "broker_inbox_failed",
                    consumer=consumer.name,
                    attempt=failures,
                    error=describe_error(exc),
                )
                await asyncio.sleep(self._reconnect.delay(failures))

    async def _bury(
        self,
        channel: aio_pika.abc.AbstractChannel,
        consumer: Consumer,
        delivery: AbstractIncomingMessage,
        reason: str,
    ) -> None:
        """Copy an unreadable delivery to the dead queue (confirmed), then ack it."""
        await channel.default_exchange.publish(
            aio_pika.Message(
                delivery.body,
                content_type=delivery.content_type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=delivery.message_id,
                headers={
                    **(delivery.headers or {}),
                    "x-agora-consumer": consumer.name,
                    "x-agora-reason": reason[:1000],
                    "x-agora-routing-key": delivery.routing_key or "",
                },
            ),
            routing_key=self._topology.dead_queue,
        )
        await _ack(delivery)
        log.error(
            "broker_message_dead",
            consumer=consumer.name,
            message_id=delivery.message_id,
            routing_key=delivery.routing_key,
            reason=reason,
            queue=self._topology.dead_queue,
        )

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        self.connected.clear()
        self._consuming.clear()
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()


async def _ack(delivery: AbstractIncomingMessage) -> None:
    # A delivery from a channel lost since cannot be acknowledged: the broker hands it
    # out again and the inbox ignores the copy.
    try:
        await delivery.ack()
    except Exception as exc:
        log.warning("broker_ack_failed", message_id=delivery.message_id, error=describe_error(exc))
