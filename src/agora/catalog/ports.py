"""Ports of the catalog context: what its services need from storage."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from agora.catalog.domain import Category, Product, ProductFilter
from agora.platform.unit_of_work import UnitOfWork, UnitOfWorkFactory


class ProductRepository(Protocol):
    async def get(self, product_id: UUID, *, for_update: bool = False) -> Product | None: ...

    async def get_by_slug(self, slug: str) -> Product | None: ...

    async def get_many(self, ids: Collection[UUID]) -> list[Product]: ...

    async def add(self, product: Product) -> None:
        """Insert; raises ``AlreadyExistsError`` naming the field on a duplicate SKU or slug."""

    async def add_many(self, products: Sequence[Product]) -> None:
        """Bulk insert (seeding); duplicates raise ``AlreadyExistsError``."""

    async def update(self, product: Product, expected_version: int) -> Product:
        """Write ``product`` if the stored version is ``expected_version``; bump the version.

        Raises ``StaleVersionError`` when another writer got there first.
        """

    async def adjust_stock(self, product_id: UUID, delta: int, now: datetime) -> Product | None:
        """Atomically add ``delta`` unless stock would go below zero; ``None`` if refused."""

    async def search(
        self, query: ProductFilter, *, offset: int, limit: int
    ) -> tuple[list[Product], int]:
        """One page of matching products and the total count."""

    async def count_in_category(self, category_id: UUID) -> int: ...

    async def exists(self) -> bool: ...


class CategoryRepository(Protocol):
    async def get(self, category_id: UUID) -> Category | None: ...

    async def get_by_slug(self, slug: str) -> Category | None: ...

    async def list_all(self) -> list[Category]:
        """Every live category (the tree is small: hundreds, not millions)."""

    async def add(self, category: Category) -> None: ...

    async def add_many(self, categories: Sequence[Category]) -> None: ...

    async def update(self, category: Category, expected_version: int) -> Category: ...

    async def has_children(self, category_id: UUID) -> bool: ...


class CatalogUnitOfWork(UnitOfWork, Protocol):
    @property
    def products(self) -> ProductRepository: ...

    @property
    def categories(self) -> CategoryRepository: ...


CatalogUnitOfWorkFactory = UnitOfWorkFactory[CatalogUnitOfWork]
