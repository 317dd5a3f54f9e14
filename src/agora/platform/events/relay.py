"""The outbox relay: moves committed events out of the outbox, in commit order.

It sleeps until a unit of work in this process commits events (or, on PostgreSQL, a
``NOTIFY`` says another process did), or until its polling interval passes. When
delivery fails (the broker is down) it backs off and tries again; the outbox keeps
every event meanwhile, so nothing but delivery is delayed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from agora.platform.events.catalogue import EventCatalogue
from agora.platform.events.ports import Outbox, RelayOutcome
from agora.platform.events.retry import RetryPolicy, describe_error
from agora.platform.events.signals import Wakeup
from agora.platform.logging import get_logger

log = get_logger("agora.events.relay")


class OutboxRelay:
    def __init__(
        self,
        outbox: Outbox,
        catalogue: EventCatalogue,
        *,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        on_published: Callable[[], None] = lambda: None,
        reconnect: RetryPolicy | None = None,
    ) -> None:
        self._outbox = outbox
        self._catalogue = catalogue
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._on_published = on_published
        self._reconnect = reconnect or RetryPolicy(base_seconds=0.5, max_seconds=15.0)
        self.wakeup = Wakeup()
        # Set when what failed is back (the broker reconnected): ends a backoff early.
        self.recovered = Wakeup()
        self.failing_since: float | None = None

    async def run_once(self) -> RelayOutcome:
        outcome = await self._outbox.relay(self._batch_size, self._catalogue.check)
        if outcome.published:
            self._on_published()
        if outcome.rejected:
            log.error("events_rejected", count=outcome.rejected, hint="agora events dlq list")
        return outcome

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                outcome = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker or the database is away: back off
                failures += 1
                if failures == 1:
                    self.failing_since = asyncio.get_running_loop().time()
                log.warning("relay_failed", attempt=failures, error=describe_error(exc))
                # New commits do not bring the broker back: wait out the backoff (or the
                # broker's return) rather than retry, and log, once per order meanwhile.
                await self.recovered.wait(self._reconnect.delay(failures))
                continue
            if failures:
                log.info("relay_recovered", after_attempts=failures)
                failures, self.failing_since = 0, None
            if outcome.more:
                await asyncio.sleep(0)
                continue
            await self.wakeup.wait(self._poll_seconds)
