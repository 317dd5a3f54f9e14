"""The backbone a process runs: the outbox relay, a runner per consumer and whatever
else feeds or uses them (the PostgreSQL listener, broker subscriptions, the scheduler).

The web process runs it on its event loop in embedded mode; ``agora worker`` runs the
same object in production. Several processes may run it at once: the outbox and the
inboxes are claimed row by row, so each event is relayed and handled once in effect.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from agora.platform.events.relay import OutboxRelay
from agora.platform.events.runner import ConsumerRunner
from agora.platform.events.signals import outbox_written
from agora.platform.logging import get_logger

log = get_logger("agora.events")

Service = Callable[[], Coroutine[Any, Any, None]]


class EventBackbone:
    def __init__(
        self,
        relay: OutboxRelay | None,
        runners: Sequence[ConsumerRunner],
        services: Sequence[tuple[str, Service]] = (),
        closers: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> None:
        self.relay = relay
        self.runners = tuple(runners)
        self._services = tuple(services)
        self._closers = tuple(closers)
        self._tasks: list[asyncio.Task[None]] = []
        self._disconnect: Callable[[], None] | None = None

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    def runner(self, consumer: str) -> ConsumerRunner:
        return next(r for r in self.runners if r.consumer.name == consumer)

    def wake_consumers(self, names: Sequence[str] | None = None) -> None:
        for runner in self.runners:
            if names is None or runner.consumer.name in names:
                runner.wakeup.set()

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wakeup.set()

    async def start(self) -> None:
        if self._tasks:
            return
        self._disconnect = outbox_written.connect(self.wake_relay)
        if self.relay is not None:
            self._tasks.append(asyncio.create_task(self.relay.run(), name="events-relay"))
        for runner in self.runners:
            name = f"events-consumer-{runner.consumer.name}"
            self._tasks.append(asyncio.create_task(runner.run(), name=name))
        for name, service in self._services:
            self._tasks.append(asyncio.create_task(service(), name=f"events-{name}"))
        log.info(
            "events_backbone_started",
            relay=self.relay is not None,
            consumers=[r.consumer.name for r in self.runners],
            services=[name for name, _ in self._services],
        )

    async def stop(self) -> None:
        if self._disconnect is not None:
            self._disconnect()
            self._disconnect = None
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for close in self._closers:
            with contextlib.suppress(Exception):
                await close()

    async def drain(self, rounds: int = 50) -> None:
        """Relay and handle everything due now, without the background tasks (tests,
        ``agora events drain``). Events retried later are not waited for."""
        for _ in range(rounds):
            moved = 0
            if self.relay is not None:
                while (outcome := await self.relay.run_once()).more:
                    moved += outcome.published
                moved += outcome.published + outcome.rejected
            for runner in self.runners:
                moved += await runner.run_once()
            if not moved:
                return
