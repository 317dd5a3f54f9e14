"""Names and declarations of the exchange and queues, and the message's envelope.

Declarations are idempotent: the publisher declares the exchange, each subscriber its
queue, its bindings and the dead queue, every time it (re)connects, so a fresh broker
needs no set-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

from agora.platform.events.model import EventMessage

# A delivery that comes back this many times without being acknowledged (a subscriber
# that crashes on it, over and over) is dead-lettered by the broker itself.
DELIVERY_LIMIT = 20


@dataclass(frozen=True, slots=True)
class Topology:
    exchange: str = "agora.events"
    queue_prefix: str = "agora"

    def queue(self, consumer: str) -> str:
        return f"{self.queue_prefix}.{consumer}"

    @property
    def dead_queue(self) -> str:
        return f"{self.queue_prefix}.dead"

    async def declare_exchange(self, channel: AbstractChannel) -> AbstractExchange:
        return await channel.declare_exchange(
            self.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )

    async def declare_dead_queue(self, channel: AbstractChannel) -> AbstractQueue:
        return await channel.declare_queue(
            self.dead_queue, durable=True, arguments={"x-queue-type": "quorum"}
        )

    async def declare_consumer_queue(
        self, channel: AbstractChannel, exchange: AbstractExchange, consumer: str, events: set[str]
    ) -> AbstractQueue:
        queue = await channel.declare_queue(
            self.queue(consumer),
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                # One subscriber at a time takes from the queue (the others stand by),
                # so events reach the inbox in the order they were published and the
                # inbox's "oldest pending per aggregate" keeps each aggregate in order.
                "x-single-active-consumer": True,
                "x-delivery-limit": DELIVERY_LIMIT,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.dead_queue,
            },
        )
        for name in sorted(events):
            await queue.bind(exchange, routing_key=name)
        return queue


def envelope(message: EventMessage) -> aio_pika.Message:
    """The AMQP message of an event: its JSON body, persistent, its id as message id
    (the key every inbox deduplicates on) and its identity in headers for routing and
    inspection without parsing the body."""
    return aio_pika.Message(
        message.to_bytes(),
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=str(message.id),
        timestamp=message.occurred_at,
        type=message.name,
        headers={
            "name": message.name,
            "version": message.version,
            "aggregate_id": str(message.aggregate_id),
            "occurred_at": message.occurred_at.isoformat(),
            "position": message.position,
        },
    )
