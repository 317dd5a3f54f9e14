"""The catalog's product repository (SQLAlchemy Core on the unit of work's connection)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agora.catalog.adapters.listing import ProductListing, TotalCache
from agora.catalog.adapters.rows import (
    PRODUCT_COLUMNS,
    product_from_row,
    product_values,
    unique_fields,
)
from agora.catalog.adapters.tables import products
from agora.catalog.domain import Product, ProductFilter
from agora.platform.errors import StaleVersionError

BULK_BATCH = 1_000
UNIQUE = ("sku", "slug")  # a product's fields no two products share


class SqlProductRepository:
    def __init__(self, connection: AsyncConnection, totals: TotalCache | None = None) -> None:
        self._conn = connection
        self._postgres = connection.dialect.name == "postgresql"
        self._listing = ProductListing(connection, totals)

    async def get(self, product_id: UUID, *, for_update: bool = False) -> Product | None:
        query = select(*PRODUCT_COLUMNS).where(products.c.id == product_id)
        if for_update and self._postgres:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
        return product_from_row(row) if row else None

    async def get_by_slug(self, slug: str) -> Product | None:
        query = select(*PRODUCT_COLUMNS).where(products.c.slug == slug)
        row = (await self._conn.execute(query)).first()
        return product_from_row(row) if row else None

    async def get_many(self, ids: Collection[UUID]) -> list[Product]:
        if not ids:
            return []
        query = select(*PRODUCT_COLUMNS).where(products.c.id.in_(list(ids)))
        return [product_from_row(row) for row in await self._conn.execute(query)]

    async def add(self, product: Product) -> None:
        await self.add_many([product])

    async def add_many(self, items: Sequence[Product]) -> None:
        for start in range(0, len(items), BULK_BATCH):
            batch = [product_values(p) for p in items[start : start + BULK_BATCH]]
            with unique_fields("product", UNIQUE):
                await self._conn.execute(insert(products), batch)

    async def update(self, product: Product, expected_version: int) -> Product:
        values = product_values(product)
        for key in ("id", "created_at", "version"):
            values.pop(key)
        statement = (
            update(products)
            .where(
                products.c.id == product.id,
                products.c.version == expected_version,
                products.c.deleted_at.is_(None),
            )
            .values(**values, version=products.c.version + 1)
            .returning(*PRODUCT_COLUMNS)
        )
        with unique_fields("product", UNIQUE):
            row = (await self._conn.execute(statement)).first()
        if row is None:
            raise StaleVersionError(expected_version=expected_version)
        return product_from_row(row)

    async def adjust_stock(self, product_id: UUID, delta: int, now: datetime) -> Product | None:
        # Relative and conditional in one statement: concurrent sales and adjustments
        # serialise on the row and none is lost; the CHECK constraint is the last guard.
        statement = (
            update(products)
            .where(
                products.c.id == product_id,
                products.c.deleted_at.is_(None),
                products.c.stock + delta >= 0,
            )
            .values(stock=products.c.stock + delta, updated_at=now)
            .returning(*PRODUCT_COLUMNS)
        )
        row = (await self._conn.execute(statement)).first()
        return product_from_row(row) if row else None

    async def search(
        self, query: ProductFilter, *, offset: int, limit: int
    ) -> tuple[list[Product], int]:
        return await self._listing.search(query, offset=offset, limit=limit)

    async def count_in_category(self, category_id: UUID) -> int:
        query = select(func.count()).where(
            products.c.category_id == category_id, products.c.deleted_at.is_(None)
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def exists(self) -> bool:
        query = select(exists().where(products.c.deleted_at.is_(None)))
        return bool((await self._conn.execute(query)).scalar())
