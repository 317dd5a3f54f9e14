"""PostgreSQL ``LISTEN``: wakes this process's relay and consumer runners when another
process commits outbox or inbox rows (the triggers of migration 0013 ``NOTIFY``).

One dedicated asyncpg connection outside the pool. If it drops, the loops keep their
polling fallback and the listener reconnects with backoff; on every (re)connect each
handler is called once, for whatever was committed while nobody listened.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from agora.platform.events.retry import RetryPolicy, describe_error
from agora.platform.logging import get_logger

log = get_logger("agora.events.listener")

OUTBOX_CHANNEL = "agora_outbox"
INBOX_CHANNEL = "agora_inbox"


class PgNotifications:
    def __init__(
        self,
        database_url: str,
        handlers: Mapping[str, Callable[[str], None]],
        *,
        keepalive_seconds: float = 30.0,
    ) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._handlers = dict(handlers)
        self._keepalive = keepalive_seconds
        self._backoff = RetryPolicy(base_seconds=0.5, max_seconds=15.0)

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                await self._listen()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning("listen_failed", attempt=failures, error=describe_error(exc))
            await asyncio.sleep(self._backoff.delay(max(failures, 1)))

    async def _listen(self) -> None:
        conn: Any = await asyncpg.connect(self._dsn, timeout=10)
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            for channel, handler in self._handlers.items():
                await conn.add_listener(channel, _callback(handler))
            for handler in self._handlers.values():
                handler("")  # catch up on what was committed while nobody listened
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self._keepalive)
                if not lost.is_set():
                    await conn.execute("SELECT 1", timeout=10)
        finally:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)


def _callback(handler: Callable[[str], None]) -> Callable[..., None]:
    def on_notify(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
        handler(payload)

    return on_notify
