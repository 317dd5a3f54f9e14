"""SQL repository and unit of work of the payments context (SQLAlchemy Core)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from agora.payments.adapters.tables import payment_webhook_events, payments
from agora.payments.domain import ACTIVE_STATUSES, UNSETTLED, Payment
from agora.platform.clock import utcnow
from agora.platform.db.rows import record_of, values_of
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.errors import ConflictError
from agora.platform.money import Money


def _values(payment: Payment) -> dict[str, Any]:
    return values_of(
        payment,
        amount=payment.amount.amount,
        currency=payment.amount.currency,
        refunded_amount=payment.refunded_amount.amount,
        active_order_id=payment.order_id if payment.status in ACTIVE_STATUSES else None,
    )


def _payment(row: RowMapping) -> Payment:
    return record_of(
        Payment,
        row,
        amount=Money(row["amount"], row["currency"]),
        refunded_amount=Money(row["refunded_amount"], row["currency"]),
    )


class SqlPaymentRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, payment: Payment) -> None:
        try:
            await self._conn.execute(insert(payments).values(**_values(payment)))
        except IntegrityError:
            raise ConflictError(
                "A payment for this order is already in progress.", order_id=str(payment.order_id)
            ) from None

    async def _one(self, *where: Any) -> Payment | None:
        statement = select(payments).where(*where).order_by(payments.c.created_at.desc()).limit(1)
        row = (await self._conn.execute(statement)).mappings().first()
        return None if row is None else _payment(row)

    async def active_for_order(self, order_id: UUID) -> Payment | None:
        return await self._one(payments.c.active_order_id == order_id)

    async def latest_for_order(self, order_id: UUID) -> Payment | None:
        return await self._one(payments.c.order_id == order_id)

    async def by_reference(self, provider: str, reference: str) -> Payment | None:
        return await self._one(
            payments.c.provider == provider, payments.c.provider_reference == reference
        )

    async def unsettled(self, updated_before: datetime, limit: int) -> list[Payment]:
        statement = (
            select(payments)
            .where(
                payments.c.status.in_([s.value for s in UNSETTLED]),
                payments.c.updated_at < updated_before,
            )
            .order_by(payments.c.updated_at)
            .limit(limit)
        )
        return [_payment(row) for row in (await self._conn.execute(statement)).mappings()]

    async def save(self, payment: Payment, expected_version: int) -> bool:
        values = _values(payment)
        for unchanged in ("id", "order_id", "customer_id", "provider", "created_at"):
            values.pop(unchanged)
        result = await self._conn.execute(
            update(payments)
            .where(payments.c.id == payment.id, payments.c.version == expected_version)
            .values(**values)
        )
        return result.rowcount == 1

    async def remember_webhook(self, event_id: str, event_type: str) -> bool:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    insert(payment_webhook_events).values(
                        id=event_id, type=event_type, received_at=utcnow()
                    )
                )
        except IntegrityError:
            return False
        return True


class SqlPaymentsUnitOfWork(SqlUnitOfWork):
    payments: SqlPaymentRepository

    def __init__(self, engine: AsyncEngine, *, read_only: bool = False) -> None:
        super().__init__(engine, read_only=read_only)

    def _bind(self, connection: AsyncConnection) -> None:
        self.payments = SqlPaymentRepository(connection)
