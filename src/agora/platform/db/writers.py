"""One writer at a time on SQLite, queued in the process rather than in SQLite.

SQLite lets one transaction write at a time. A writer that finds the lock taken waits in
SQLite's busy handler, which polls with sleeps that grow to 100 ms, so under load each
write waits tens of milliseconds after the lock was free. The writers of one process
queue here instead, on an asyncio lock taken before ``BEGIN IMMEDIATE``: the next one
starts the moment the previous one ends. Other processes on the same file (an
``agora worker`` beside the web) still meet in the busy handler. PostgreSQL needs none
of this.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class _Writers:
    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        # One lock per event loop: tests and CLI commands run several loops in turn.
        self.locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()

    def lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self.locks.get(loop)
        if lock is None:
            lock = self.locks[loop] = asyncio.Lock()
        return lock


_queues: WeakKeyDictionary[Engine, _Writers] = WeakKeyDictionary()


def queue_writers(engine: AsyncEngine, timeout_seconds: float) -> None:
    """Make this SQLite engine's writers queue in the process (see the module)."""
    _queues[engine.sync_engine] = _Writers(timeout_seconds)


@asynccontextmanager
async def one_writer(engine: AsyncEngine) -> AsyncIterator[None]:
    """Held around a writing transaction; a no-op for engines that do not queue."""
    writers = _queues.get(engine.sync_engine)
    if writers is None:
        yield
        return
    lock = writers.lock()
    try:
        await asyncio.wait_for(lock.acquire(), writers.timeout_seconds)
    except TimeoutError:
        # What SQLite itself would say after its busy timeout.
        raise OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked")) from None
    try:
        yield
    finally:
        lock.release()


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """``engine.begin()`` for a writing transaction, in turn with the process's others."""
    async with one_writer(engine), engine.begin() as conn:
        yield conn
