"""The stock ledger: the only way stock is sold and given back.

Checkout runs it inside its own unit of work's transaction, so a reservation commits or
rolls back together with the order. Each reservation is ONE conditional statement
(``... SET stock = stock - q WHERE stock >= q``): the database serialises writers on the
row (PostgreSQL row lock, re-checked at READ COMMITTED; SQLite's single writer), so no
interleaving of checkouts can oversell.

Stock movements do not bump the product's ``version``. The version protects what staff
edit by hand (name, price, description); if every sale bumped it, each staff edit of a
selling product would fail with a conflict, while stock itself needs no version: the
conditional update already makes every movement atomic and relative.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agora.catalog.adapters.tables import products
from agora.catalog.domain import StockReservation
from agora.platform.clock import utcnow
from agora.platform.db.rows import record_of
from agora.platform.errors import NotFoundError, OutOfStockError, ValidationError
from agora.platform.money import Money


def _positive(quantity: int) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValidationError("A quantity is a whole number of at least 1.", field="quantity")
    return quantity


class SqlStockLedger:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def reserve(self, product_id: UUID, quantity: int) -> StockReservation:
        """Take ``quantity`` units of a product on sale, or raise without changing anything."""
        quantity = _positive(quantity)
        c = products.c
        statement = (
            update(products)
            .where(
                c.id == product_id,
                c.stock >= quantity,
                c.is_published,
                c.deleted_at.is_(None),
            )
            .values(stock=c.stock - quantity, updated_at=utcnow())
            .returning(c.id, c.sku, c.name, c.price_amount, c.currency)
        )
        row = (await self._conn.execute(statement)).first()
        if row is not None:
            return record_of(StockReservation, row, price=Money(row.price_amount, row.currency))
        current = (
            await self._conn.execute(
                select(c.stock).where(c.id == product_id, c.is_published, c.deleted_at.is_(None))
            )
        ).first()
        if current is None:
            raise NotFoundError("The product is not for sale.", product_id=str(product_id))
        raise OutOfStockError(
            product_id=str(product_id), requested=quantity, available=int(current.stock)
        )

    async def release(self, product_id: UUID, quantity: int) -> None:
        """Give back units taken by ``reserve`` (a cancelled or failed checkout).

        Deleted or unpublished products get their stock back too: the units exist.
        """
        quantity = _positive(quantity)
        c = products.c
        await self._conn.execute(
            update(products)
            .where(c.id == product_id)
            .values(stock=c.stock + quantity, updated_at=utcnow())
        )
