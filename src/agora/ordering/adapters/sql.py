"""SQL repositories and the unit of work of the ordering context (SQLAlchemy Core)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from agora.ordering.adapters.tables import cart_items, order_items, order_status_history, orders
from agora.ordering.domain import Cart, Order, OrderLine, OrderStatus, StatusChange
from agora.ordering.ports import OrderFilter, StockLedger
from agora.platform.clock import utcnow
from agora.platform.db.rows import record_of, values_of
from agora.platform.db.schema import plain_uuid
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.errors import AlreadyExistsError
from agora.platform.ids import new_id
from agora.platform.money import Money

StockLedgerFactory = Callable[[AsyncConnection], StockLedger]
LINE_KEY = [cart_items.c.customer_id, cart_items.c.product_id]  # a cart line's primary key


def _history_row(change: StatusChange) -> dict[str, Any]:
    return values_of(change, id=new_id())


def _order_values(order: Order) -> dict[str, Any]:
    values = values_of(order, total_amount=order.total.amount, currency=order.total.currency)
    del values["items"], values["total"]
    return values


class SqlOrderRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def add(self, order: Order) -> None:
        try:
            await self._conn.execute(insert(orders).values(_order_values(order)))
        except IntegrityError:  # a 40-bit order number collided: vanishingly rare, retryable
            raise AlreadyExistsError("Order number collision; retry.") from None
        await self._conn.execute(
            insert(order_items),
            [
                {
                    "order_id": order.id,
                    "product_id": line.product_id,
                    "position": position,
                    "sku": line.sku,
                    "name": line.name,
                    "unit_price": line.unit_price.amount,
                    "quantity": line.quantity,
                    "line_total": line.line_total.amount,
                }
                for position, line in enumerate(order.items)
            ],
        )
        await self._conn.execute(
            insert(order_status_history).values(
                _history_row(
                    StatusChange(order.id, None, order.status, order.customer_id, order.created_at)
                )
            )
        )

    async def get(self, order_id: UUID) -> Order | None:
        row = (
            (await self._conn.execute(select(orders).where(orders.c.id == order_id)))
            .mappings()
            .first()
        )
        if row is None:
            return None
        return (await self._hydrate([row]))[0]

    async def list(
        self, where: OrderFilter, offset: int, limit: int
    ) -> tuple[Sequence[Order], int]:
        conditions = []
        if where.customer_id is not None:
            conditions.append(orders.c.customer_id == where.customer_id)
        if where.status is not None:
            conditions.append(orders.c.status == where.status.value)
        if where.created_from is not None:
            conditions.append(orders.c.created_at >= where.created_from)
        if where.created_to is not None:
            conditions.append(orders.c.created_at < where.created_to)
        count = await self._conn.scalar(select(func.count()).select_from(orders).where(*conditions))
        rows = (
            (
                await self._conn.execute(
                    select(orders)
                    .where(*conditions)
                    .order_by(orders.c.created_at.desc(), orders.c.id.desc())
                    .offset(offset)
                    .limit(limit)
                )
            )
            .mappings()
            .all()
        )
        return await self._hydrate(rows), int(count or 0)

    async def _hydrate(self, rows: Sequence[RowMapping]) -> Sequence[Order]:
        if not rows:
            return []
        lines: defaultdict[UUID, Any] = defaultdict(list)
        currency = {plain_uuid(row["id"]): row["currency"] for row in rows}
        result = await self._conn.execute(
            select(order_items)
            .where(order_items.c.order_id.in_(list(currency)))
            .order_by(order_items.c.order_id, order_items.c.position)
        )
        for item in result.mappings():
            order_id = plain_uuid(item["order_id"])
            unit_price = Money(item["unit_price"], currency[order_id])
            lines[order_id].append(record_of(OrderLine, item, unit_price=unit_price))
        return [
            record_of(
                Order,
                row,
                items=tuple(lines[plain_uuid(row["id"])]),
                total=Money(row["total_amount"], row["currency"]),
            )
            for row in rows
        ]

    async def save(self, order: Order, change: StatusChange, expected_version: int) -> bool:
        result = await self._conn.execute(
            update(orders)
            .where(orders.c.id == order.id, orders.c.version == expected_version)
            .values(
                status=order.status.value,
                payment_status=order.payment_status,
                payment_reference=order.payment_reference,
                updated_at=order.updated_at,
                version=order.version,
            )
        )
        if result.rowcount != 1:
            return False
        await self._conn.execute(insert(order_status_history).values(_history_row(change)))
        return True

    async def set_payment(self, order_id: UUID, status: str, reference: str | None) -> None:
        await self._conn.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(payment_status=status, payment_reference=reference)
        )

    async def history(self, order_id: UUID) -> Sequence[StatusChange]:
        table = order_status_history
        result = await self._conn.execute(
            select(table).where(table.c.order_id == order_id).order_by(table.c.at, table.c.id)
        )
        return [
            record_of(
                StatusChange,
                row,
                from_status=OrderStatus(row["from_status"]) if row["from_status"] else None,
            )
            for row in result.mappings()
        ]


class SqlCartRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def get(self, customer_id: UUID) -> Cart:
        result = await self._conn.execute(
            select(cart_items.c.product_id, cart_items.c.quantity)
            .where(cart_items.c.customer_id == customer_id)
            .order_by(cart_items.c.added_at, cart_items.c.product_id)
        )
        return Cart(customer_id, {plain_uuid(row.product_id): row.quantity for row in result})

    def _new_line(
        self, customer_id: UUID, product_id: UUID, quantity: int, now: datetime
    ) -> PgInsert | SqliteInsert:
        """Insert a line; the caller adds what an existing line becomes (an upsert)."""
        dialect_insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        return dialect_insert(cart_items).values(
            customer_id=customer_id,
            product_id=product_id,
            quantity=quantity,
            added_at=now,
            updated_at=now,
        )

    async def set_quantity(self, customer_id: UUID, product_id: UUID, quantity: int) -> None:
        # An upsert, so two concurrent first adds of a product cannot collide on the key.
        now = utcnow()
        statement = self._new_line(customer_id, product_id, quantity, now)
        await self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=LINE_KEY, set_={"quantity": quantity, "updated_at": now}
            )
        )

    async def add_quantity(
        self, customer_id: UUID, product_id: UUID, quantity: int, max_quantity: int
    ) -> int | None:
        # One statement, so concurrent adds of the same product never lose an increment.
        now = utcnow()
        statement = self._new_line(customer_id, product_id, quantity, now)
        summed = cart_items.c.quantity + statement.excluded.quantity
        result = await self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=LINE_KEY,
                set_={"quantity": summed, "updated_at": now},
                where=summed <= max_quantity,
            ).returning(cart_items.c.quantity)
        )
        row = result.first()
        return None if row is None else int(row.quantity)

    async def remove(self, customer_id: UUID, product_ids: Collection[UUID]) -> int:
        result = await self._conn.execute(
            delete(cart_items).where(
                cart_items.c.customer_id == customer_id,
                cart_items.c.product_id.in_(list(product_ids)),
            )
        )
        return int(result.rowcount)

    async def clear(self, customer_id: UUID) -> None:
        await self._conn.execute(delete(cart_items).where(cart_items.c.customer_id == customer_id))

    async def delete_untouched_since(self, before: datetime) -> int:
        # One statement: a cart is judged by its most recently changed line.
        abandoned = (
            select(cart_items.c.customer_id)
            .group_by(cart_items.c.customer_id)
            .having(func.max(cart_items.c.updated_at) < before)
        )
        result = await self._conn.execute(
            delete(cart_items).where(cart_items.c.customer_id.in_(abandoned))
        )
        return int(result.rowcount)


class SqlOrderingUnitOfWork(SqlUnitOfWork):
    """Orders, carts and the catalog's stock ledger on one transaction.

    Stock reservation and the order insert commit or roll back together; the stock
    ledger is the catalog's adapter, handed in by the composition root.
    """

    orders: SqlOrderRepository
    carts: SqlCartRepository
    stock: StockLedger

    def __init__(
        self,
        engine: AsyncEngine,
        stock_ledger_factory: StockLedgerFactory,
        *,
        read_only: bool = False,
    ) -> None:
        super().__init__(engine, read_only=read_only)
        self._stock_ledger_factory = stock_ledger_factory

    def _bind(self, connection: AsyncConnection) -> None:
        self.orders = SqlOrderRepository(connection)
        self.carts = SqlCartRepository(connection)
        self.stock = self._stock_ledger_factory(connection)
