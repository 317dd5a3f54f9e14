"""Wake-ups: the outbox was written, an inbox received messages.

A ``Wakeup`` lets a loop sleep until it has work or its polling interval passes.
``outbox_written`` is set by every unit of work that committed events in this process;
on PostgreSQL a listener also sets it on ``NOTIFY`` from other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class Wakeup:
    """An edge-triggered flag, safe to set before anyone waits and from any loop."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _bind(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        if self._event is None or self._loop is not loop:
            self._event, self._loop = asyncio.Event(), loop
        return self._event

    def set(self) -> None:
        if self._event is None or self._loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._event.set()
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, seconds: float) -> bool:
        """True if woken, False after ``seconds``; the flag is cleared."""
        event = self._bind()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
        woken = event.is_set()
        event.clear()
        return woken


class Signal:
    """Callbacks run when something happened; listeners come and go with their loops."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def connect(self, listener: Callable[[], None]) -> Callable[[], None]:
        self._listeners.append(listener)

        def disconnect() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return disconnect

    def send(self) -> None:
        for listener in tuple(self._listeners):
            listener()


outbox_written = Signal()
