"""The SQL unit of work: one transaction on one connection, events into the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, contextmanager, suppress
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, Self

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from agora.platform.db.engine import READ_ONLY
from agora.platform.db.tables import outbox_events
from agora.platform.db.writers import one_writer
from agora.platform.events import DomainEvent
from agora.platform.events.signals import outbox_written


class _Ambient:
    """An open transaction that units of work opened meanwhile join."""

    __slots__ = ("connection", "open", "wrote_events")

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.open = True
        # A joined unit put events in the outbox: the outermost commit wakes the relay.
        self.wrote_events = False


# The transaction units of work join instead of opening their own: an event handler's
# (so the handler's writes commit together with the inbox's mark that the event was
# handled), or the outermost writing unit's (so a unit nested in it, such as the audit
# record of the action, commits or rolls back with the action).
_ambient: ContextVar[_Ambient | None] = ContextVar("agora_ambient_tx", default=None)


@contextmanager
def joined_transaction(connection: AsyncConnection) -> Iterator[None]:
    """Make ``connection``'s open transaction the one units of work join."""
    token = _ambient.set(_Ambient(connection))
    try:
        yield
    finally:
        _ambient.reset(token)


class SqlUnitOfWork:
    """A transaction on one connection; subclasses attach their repositories in ``_bind``.

    Writing units take the write lock up front on SQLite; on PostgreSQL they run at
    READ COMMITTED and rely on atomic conditional updates and row locks. Read-only
    units never write: on PostgreSQL each of their statements runs in autocommit (no
    shared snapshot across statements, which the catalog's page-plus-count reads do
    not need); on SQLite they hold a deferred read transaction. A ``snapshot`` unit is a
    read-only unit whose statements all see one instant (REPEATABLE READ on PostgreSQL;
    SQLite's read transaction in WAL mode already is one snapshot), for reads that must
    agree with each other, such as a walk over a whole hash chain.

    Inside ``joined_transaction`` (an event handler), or inside an open writing unit, a
    unit opens no connection of its own: it runs in the enclosing transaction, a writing
    unit inside a savepoint, so a unit that fails rolls back only its own work and one
    that commits is kept only if the enclosing transaction commits too (only the
    outermost unit commits for real). Once the outermost unit has committed or ended,
    units open their own transaction again. ``join=False`` always opens its own: for
    writes that must outlive the enclosing transaction's rollback (on SQLite only
    outside an open writing unit, whose write lock it would wait for).
    """

    connection: AsyncConnection

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        read_only: bool = False,
        snapshot: bool = False,
        join: bool = True,
    ) -> None:
        self._engine = engine
        self._read_only = read_only or snapshot
        self._snapshot = snapshot
        self._events: list[DomainEvent] = []
        self._committed = False
        self._savepoint: AsyncTransaction | None = None
        self._joined = False
        self._join = join
        self._shared: _Ambient | None = None
        self._token: Token[_Ambient | None] | None = None
        # SQLite: this process's turn to write (see ``platform.db.writers``).
        self._writer: AbstractAsyncContextManager[None] | None = None

    @property
    def joined(self) -> bool:
        """Whether this unit runs inside an enclosing transaction rather than its own."""
        return self._joined

    async def __aenter__(self) -> Self:
        ambient = _ambient.get() if self._join else None
        if ambient is not None and ambient.open:
            self._shared, self.connection, self._joined = ambient, ambient.connection, True
            if not self._read_only:
                self._savepoint = await ambient.connection.begin_nested()
            self._bind(ambient.connection)
            return self
        if not self._read_only:
            self._writer = one_writer(self._engine)
            await self._writer.__aenter__()
        try:
            connection = await self._engine.connect()
        except BaseException:
            await self._release_writer()
            raise
        if self._read_only:
            options: dict[str, Any] = {READ_ONLY: True}
            if connection.dialect.name == "postgresql":
                # A read needs no transaction of its own on PostgreSQL: autocommit saves
                # the BEGIN and ROLLBACK round trips on every catalog read.
                options["isolation_level"] = "REPEATABLE READ" if self._snapshot else "AUTOCOMMIT"
            connection = await connection.execution_options(**options)
        self.connection = connection
        try:
            await connection.begin()
            self._bind(connection)
        except BaseException:
            await connection.close()
            await self._release_writer()
            raise
        if not self._read_only:
            self._shared = _Ambient(connection)
            self._token = _ambient.set(self._shared)
        return self

    def _bind(self, connection: AsyncConnection) -> None:
        """Create repositories on ``connection``; overridden by each context."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._joined:
            if self._savepoint is not None and not self._committed:
                await self._savepoint.rollback()
            return
        self._stop_sharing()
        try:
            if not self._committed:
                await self.connection.rollback()
        finally:
            try:
                await self.connection.close()
            finally:
                await self._release_writer()

    async def _release_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.__aexit__(None, None, None)

    def _stop_sharing(self) -> None:
        if self._shared is not None:
            self._shared.open = False
        if self._token is not None:
            token, self._token = self._token, None
            # Left in another context than entered: there is nothing to restore.
            with suppress(ValueError):
                _ambient.reset(token)

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    async def commit(self) -> None:
        if self._events:
            await self.connection.execute(
                insert(outbox_events),
                [
                    {
                        "id": e.id,
                        "name": e.name,
                        "version": e.version,
                        "aggregate_id": e.aggregate_id,
                        "payload": e.payload,
                        "occurred_at": e.occurred_at,
                    }
                    for e in self._events
                ],
            )
            wrote_events = True
            self._events.clear()
        else:
            wrote_events = False
        if self._joined:
            if self._savepoint is not None:
                await self._savepoint.commit()
            if wrote_events and self._shared is not None:
                self._shared.wrote_events = True
            self._committed = True
            return
        if self._shared is not None:
            # Units opened after this commit, still inside the block, get their own.
            self._shared.open = False
            wrote_events = wrote_events or self._shared.wrote_events
        try:
            await self.connection.commit()
        finally:
            # The transaction is over: the next writer may start (a refusal recorded
            # after the commit, still inside this block, among them).
            await self._release_writer()
        self._committed = True
        if wrote_events:
            outbox_written.send()
