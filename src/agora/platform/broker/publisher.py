"""The relay's publisher: events to the topic exchange, returned only once confirmed.

A batch is published as a whole and its confirms awaited together (one round trip per
batch, not per message). Any failure (a nack, the connection lost, no confirm within
the timeout) raises: the relay rolls its claim back, backs off and publishes the batch
again, so a broker that went away costs delivery time and nothing else. A message
confirmed before the failure is published twice; the consumers' inboxes absorb the copy.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractRobustChannel, AbstractRobustConnection

from agora.platform.broker.topology import Topology, envelope
from agora.platform.errors import DependencyUnavailableError
from agora.platform.events.model import EventMessage
from agora.platform.events.retry import describe_error
from agora.platform.logging import get_logger

log = get_logger("agora.events.broker")

# How long a publish waits for a reconnected channel's declarations to be restored.
_RESTORE_SECONDS = 1.0


class BrokerUnavailableError(DependencyUnavailableError):
    """RabbitMQ cannot be reached, or did not confirm what was published."""


class RabbitPublisher:
    def __init__(
        self,
        url: str,
        topology: Topology,
        queues: Mapping[str, frozenset[str]] | None = None,
        *,
        connect_timeout: float = 5.0,
        confirm_timeout: float = 15.0,
        reconnect_seconds: float = 1.0,
        on_reconnected: Callable[[], None] = lambda: None,
    ) -> None:
        """``on_reconnected`` runs once a lost connection is back with its channel and
        declarations restored (the relay ends its backoff early)."""
        self._url = url
        self._topology = topology
        # Consumer name -> event names: their queues are declared before the first
        # publish, so an event published before a subscriber ever connected waits in
        # its queue instead of being dropped as unroutable.
        self._queues = dict(queues or {})
        self._connect_timeout = connect_timeout
        self._confirm_timeout = confirm_timeout
        self._reconnect_seconds = reconnect_seconds
        self._on_reconnected = on_reconnected
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._lock = asyncio.Lock()

    async def _ready_exchange(self) -> AbstractExchange:
        async with self._lock:
            if self._exchange is None or self._channel is None:
                try:
                    await self._open()
                except BaseException:
                    await self._forget()
                    raise
            connection, channel, exchange = self._connection, self._channel, self._exchange
        # Lost and reconnecting: fail now rather than wait, because the relay calls this
        # inside its claim's transaction (on SQLite, the database's write lock).
        if connection is None or channel is None or exchange is None:
            raise BrokerUnavailableError("not connected to RabbitMQ")
        if not connection.connected.is_set():
            raise BrokerUnavailableError("the connection to RabbitMQ is being re-established")
        await asyncio.wait_for(channel.ready(), _RESTORE_SECONDS)
        return exchange

    async def _open(self) -> None:
        # The first connection fails fast; once made, it reconnects by itself and
        # restores the channel and the declarations.
        self._connection = await aio_pika.connect_robust(
            self._url,
            timeout=self._connect_timeout,
            reconnect_interval=self._reconnect_seconds,
            client_properties={"connection_name": "agora relay"},
        )
        self._connection.reconnect_callbacks.add(self._reconnected)
        self._channel = await self._connection.channel(publisher_confirms=True)
        exchange = await self._topology.declare_exchange(self._channel)
        await self._topology.declare_dead_queue(self._channel)
        for consumer, events in sorted(self._queues.items()):
            await self._topology.declare_consumer_queue(
                self._channel, exchange, consumer, set(events)
            )
        self._exchange = exchange
        log.info("broker_publisher_connected", exchange=self._topology.exchange)

    def _reconnected(self, *_args: Any) -> None:
        log.info("broker_publisher_reconnected", exchange=self._topology.exchange)
        self._on_reconnected()

    async def connect(self, retry_seconds: float = 2.0) -> None:
        """Connect and declare the topology now (a worker's start-up) instead of at the
        first publish, retrying until the broker answers; returns once connected (and,
        if the broker was down at start-up, tells the relay it is back)."""
        failures = 0
        while True:
            try:
                await self._ready_exchange()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning(
                    "broker_publisher_connect_failed", attempt=failures, error=describe_error(exc)
                )
                await asyncio.sleep(retry_seconds)
                continue
            if failures:
                self._on_reconnected()
            return

    async def publish(self, messages: Sequence[EventMessage]) -> None:
        if not messages:
            return
        try:
            exchange = await self._ready_exchange()
            confirms = [
                exchange.publish(envelope(m), routing_key=m.name, mandatory=False) for m in messages
            ]
            await asyncio.wait_for(asyncio.gather(*confirms), self._confirm_timeout)
        except asyncio.CancelledError:
            raise
        except BrokerUnavailableError:
            raise
        except Exception as exc:
            raise BrokerUnavailableError(
                f"RabbitMQ did not confirm {len(messages)} events: {type(exc).__name__} {exc}"
            ) from exc

    async def _forget(self) -> None:
        connection, self._connection = self._connection, None
        self._channel = self._exchange = None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    async def close(self) -> None:
        async with self._lock:
            await self._forget()
