"""The catalog's unit of work: one transaction, with the product and category repositories
bound to its connection."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from agora.catalog.adapters.categories import SqlCategoryRepository
from agora.catalog.adapters.listing import TotalCache
from agora.catalog.adapters.products import SqlProductRepository
from agora.platform.db.transaction import SqlUnitOfWork


class SqlCatalogUnitOfWork(SqlUnitOfWork):
    products: SqlProductRepository
    categories: SqlCategoryRepository

    def __init__(
        self, engine: AsyncEngine, *, read_only: bool = False, totals: TotalCache | None = None
    ) -> None:
        super().__init__(engine, read_only=read_only)
        self._totals = totals

    def _bind(self, connection: AsyncConnection) -> None:
        self.products = SqlProductRepository(connection, self._totals)
        self.categories = SqlCategoryRepository(connection)
