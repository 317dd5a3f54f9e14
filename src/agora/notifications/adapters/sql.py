"""SQL storage of queued mail, on a unit of work of its own or inside another context's.

``messages_in(uow)`` is the store on the connection of any SQL unit of work: identity
queues account mail in the transaction that issues the link, so the message and its
``MailQueued`` event commit, or roll back, with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from agora.notifications.adapters.tables import mail_messages as m
from agora.notifications.domain import MailMessage, MailQuery, MailStatus
from agora.platform.db.rows import record_of
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.unit_of_work import UnitOfWork


def _message(row: Any) -> MailMessage:
    return record_of(MailMessage, row, to=row.recipient, text=row.text_body, html=row.html_body)


class SqlMailMessages:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, message: MailMessage) -> bool:
        values = {
            "id": message.id,
            "recipient": message.to,
            "subject": message.subject,
            "text_body": message.text,
            "html_body": message.html,
            "kind": message.kind,
            "status": message.status.value,
            "attempts": message.attempts,
            "created_at": message.created_at,
            "user_id": message.user_id,
            "dedupe_key": message.dedupe_key,
        }
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        # ON CONFLICT DO NOTHING rather than catching the unique violation: inside an
        # event handler's transaction a failed INSERT would abort it on PostgreSQL.
        statement = dialect.insert(m).values(values).on_conflict_do_nothing()
        result = await self._conn.execute(statement)
        return bool(result.rowcount)

    async def get(self, message_id: UUID) -> MailMessage | None:
        row = (await self._conn.execute(select(m).where(m.c.id == message_id))).first()
        return None if row is None else _message(row)

    async def search(
        self, query: MailQuery, offset: int, limit: int
    ) -> tuple[Sequence[MailMessage], int]:
        conditions: list[ColumnElement[bool]] = []
        if query.status is not None:
            conditions.append(m.c.status == query.status.value)
        if query.to is not None:
            conditions.append(m.c.recipient == query.to)
        rows = await self._conn.execute(
            select(m)
            .where(*conditions)
            .order_by(m.c.created_at.desc(), m.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        found = [_message(row) for row in rows]
        if offset == 0 and len(found) < limit:
            return found, len(found)
        total = await self._conn.scalar(select(func.count()).select_from(m).where(*conditions))
        return found, int(total or 0)

    async def record_sent(self, message_id: UUID, provider_message_id: str, at: datetime) -> None:
        await self._conn.execute(
            update(m)
            .where(m.c.id == message_id)
            .values(
                status=MailStatus.SENT.value,
                attempts=m.c.attempts + 1,
                provider_message_id=provider_message_id,
                sent_at=at,
                last_attempt_at=at,
                last_error=None,
            )
        )

    async def record_failure(
        self, message_id: UUID, error: str, at: datetime, *, final: bool
    ) -> None:
        status = MailStatus.FAILED if final else MailStatus.QUEUED
        await self._conn.execute(
            update(m)
            .where(m.c.id == message_id, m.c.status != MailStatus.SENT.value)
            .values(
                status=status.value,
                attempts=m.c.attempts + 1,
                last_error=error,
                last_attempt_at=at,
            )
        )

    async def requeue(self, message_id: UUID) -> bool:
        result = await self._conn.execute(
            update(m)
            .where(m.c.id == message_id, m.c.status != MailStatus.QUEUED.value)
            .values(status=MailStatus.QUEUED.value)
        )
        return bool(result.rowcount)

    async def last_outcome(self) -> MailMessage | None:
        row = (
            await self._conn.execute(
                select(m)
                .where(m.c.last_attempt_at.is_not(None))
                .order_by(m.c.last_attempt_at.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else _message(row)


class SqlNotificationsUnitOfWork(SqlUnitOfWork):
    mail: SqlMailMessages

    def _bind(self, connection: AsyncConnection) -> None:
        self.mail = SqlMailMessages(connection)


def messages_in(uow: UnitOfWork) -> SqlMailMessages:
    """The store on ``uow``'s connection; the unit must be a SQL one (every context's is)."""
    if not isinstance(uow, SqlUnitOfWork):
        raise TypeError(f"mail is queued in a SQL unit of work, not {type(uow).__name__}")
    return SqlMailMessages(uow.connection)
