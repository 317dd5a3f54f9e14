"""The test provider's book of charges in SQL, and the unit of work it is read through."""

from __future__ import annotations

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from agora.payments.adapters.tables import test_provider_charges as charges
from agora.payments.adapters.test_cards import TestCharge
from agora.payments.domain import DeclineReason, GatewayStatus
from agora.platform.clock import utcnow
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.money import Money


def _charge(row: RowMapping) -> TestCharge:
    reason = row["decline_reason"]
    return TestCharge(
        reference=row["reference"],
        idempotency_key=row["idempotency_key"],
        amount=Money(row["amount"], row["currency"]),
        status=GatewayStatus(row["status"]),
        decline_reason=DeclineReason(reason) if reason is not None else None,
        refunded_amount=row["refunded_amount"],
    )


class SqlTestCharges:
    __test__ = False

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def _one(self, where: ColumnElement[bool]) -> TestCharge | None:
        row = (await self._conn.execute(select(charges).where(where))).mappings().first()
        return _charge(row) if row is not None else None

    async def by_idempotency_key(self, idempotency_key: str) -> TestCharge | None:
        return await self._one(charges.c.idempotency_key == idempotency_key)

    async def get(self, reference: str) -> TestCharge | None:
        return await self._one(charges.c.reference == reference)

    async def add(self, charge: TestCharge) -> TestCharge:
        now = utcnow()
        values = {
            "reference": charge.reference,
            "idempotency_key": charge.idempotency_key,
            "amount": charge.amount.amount,
            "currency": charge.amount.currency,
            "status": charge.status.value,
            "decline_reason": charge.decline_reason.value if charge.decline_reason else None,
            "refunded_amount": charge.refunded_amount,
            "created_at": now,
            "updated_at": now,
        }
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(insert(charges).values(values))
        except IntegrityError:
            # A concurrent authorization with the same key won: answer with its charge.
            stored = await self.by_idempotency_key(charge.idempotency_key)
            if stored is None:
                raise
            return stored
        return charge

    async def capture(self, reference: str) -> bool:
        result = await self._conn.execute(
            update(charges)
            .where(
                charges.c.reference == reference,
                charges.c.status.in_(
                    [GatewayStatus.AUTHORIZED.value, GatewayStatus.CAPTURED.value]
                ),
            )
            .values(status=GatewayStatus.CAPTURED.value, updated_at=utcnow())
        )
        return result.rowcount == 1

    async def refund(self, reference: str, amount: Money) -> bool:
        result = await self._conn.execute(
            update(charges)
            .where(
                charges.c.reference == reference,
                charges.c.status == GatewayStatus.CAPTURED.value,
                charges.c.currency == amount.currency,
                charges.c.refunded_amount + amount.amount <= charges.c.amount,
            )
            .values(refunded_amount=charges.c.refunded_amount + amount.amount, updated_at=utcnow())
        )
        return result.rowcount == 1


class SqlTestChargesUnitOfWork(SqlUnitOfWork):
    __test__ = False

    charges: SqlTestCharges

    def __init__(self, engine: AsyncEngine, *, read_only: bool = False) -> None:
        super().__init__(engine, read_only=read_only)

    def _bind(self, connection: AsyncConnection) -> None:
        self.charges = SqlTestCharges(connection)
