"""A consumer's runner: takes due events from its inbox and hands them to its handler.

One event per transaction: the handler's writes and the mark that the event was
handled commit together. A failure rolls both back and schedules the next attempt with
backoff and jitter; after the policy's last attempt the event is dead-lettered with its
error. A failing event holds back only later events of its own aggregate (their order
matters); every other aggregate keeps flowing.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from agora.platform.clock import utcnow
from agora.platform.events.catalogue import EventCatalogue, EventSchemaError
from agora.platform.events.consumers import Consumer, Received
from agora.platform.events.model import EventMessage
from agora.platform.events.ports import Inbox, InboxItem
from agora.platform.events.retry import RetryPolicy, describe_error
from agora.platform.events.signals import Wakeup
from agora.platform.logging import get_logger

log = get_logger("agora.events.consumer")


class ConsumerRunner:
    def __init__(
        self,
        consumer: Consumer,
        inbox: Inbox,
        catalogue: EventCatalogue,
        policy: RetryPolicy,
        *,
        batch_size: int = 100,
        poll_seconds: float = 1.0,
    ) -> None:
        self.consumer = consumer
        self._inbox = inbox
        self._catalogue = catalogue
        self._policy = policy
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self.wakeup = Wakeup()

    async def run_once(self) -> int:
        """Handle what is due now; returns how many items were taken."""
        items = await self._inbox.due(self.consumer.name, self._batch_size)
        for item in items:
            await self._handle(item)
        return len(items)

    async def _handle(self, item: InboxItem) -> None:
        attempt = item.attempts + 1
        try:
            if self.consumer.in_transaction:
                await self._inbox.process(item, self._call_handler)
            else:
                await self._inbox.process_outside_transaction(item, self._call_handler)
        except asyncio.CancelledError:
            raise
        except EventSchemaError as exc:  # retrying cannot help; a fix and a replay can
            await self._inbox.dead_letter(item, describe_error(exc))
            log.error("event_dead_lettered", **self._fields(item, attempt), error=str(exc))
        except Exception as exc:
            error = describe_error(exc)
            if self._policy.exhausted(attempt):
                await self._inbox.dead_letter(item, error)
                log.error("event_dead_lettered", **self._fields(item, attempt), error=error)
                return
            delay = self._policy.delay(attempt)
            await self._inbox.retry_later(item, error, utcnow() + timedelta(seconds=delay))
            log.warning(
                "event_retry", **self._fields(item, attempt), error=error, retry_in=round(delay, 2)
            )

    async def _call_handler(self, message: EventMessage, attempt: int) -> None:
        payload = self._catalogue.parse(message.name, message.version, message.payload)
        await self.consumer.handler(
            Received(
                id=message.id,
                name=message.name,
                version=message.version,
                aggregate_id=message.aggregate_id,
                occurred_at=message.occurred_at,
                attempt=attempt,
                payload=payload,
            )
        )

    def _fields(self, item: InboxItem, attempt: int) -> dict[str, object]:
        return {
            "consumer": self.consumer.name,
            "event_name": item.message.name,
            "event_id": str(item.message.id),
            "attempt": attempt,
        }

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                taken = await self.run_once()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: back off, keep the loop
                failures += 1
                log.warning(
                    "consumer_loop_failed", consumer=self.consumer.name, error=describe_error(exc)
                )
                await self.wakeup.wait(min(15.0, 0.5 * 2**failures))
                continue
            if taken >= self._batch_size:
                await asyncio.sleep(0)
                continue
            await self.wakeup.wait(await self._sleep_for())

    async def _sleep_for(self) -> float:
        next_at = await self._inbox.next_due_at(self.consumer.name)
        if next_at is None:
            return self._poll_seconds
        return max(0.01, min(self._poll_seconds, (next_at - utcnow()).total_seconds()))
