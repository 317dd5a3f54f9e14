"""In-memory stand-ins for the catalog's ports, for fast service tests."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from agora.catalog.domain import Category, Product, ProductFilter, search_terms
from agora.platform.errors import AlreadyExistsError, StaleVersionError
from agora.platform.events import DomainEvent


@dataclass
class CatalogStore:
    products: dict[UUID, Product] = field(default_factory=dict)
    categories: dict[UUID, Category] = field(default_factory=dict)
    events: list[DomainEvent] = field(default_factory=list)
    commits: int = 0


class FakeProducts:
    def __init__(self, store: CatalogStore) -> None:
        self._store = store

    async def get(self, product_id: UUID, *, for_update: bool = False) -> Product | None:
        return self._store.products.get(product_id)

    async def get_by_slug(self, slug: str) -> Product | None:
        return next((p for p in self._store.products.values() if p.slug == slug), None)

    async def get_many(self, ids: Collection[UUID]) -> list[Product]:
        return [p for i, p in self._store.products.items() if i in ids]

    async def add(self, product: Product) -> None:
        await self.add_many([product])

    async def add_many(self, products: Sequence[Product]) -> None:
        for product in products:
            for name in ("sku", "slug"):
                if any(
                    getattr(p, name) == getattr(product, name)
                    for p in self._store.products.values()
                ):
                    raise AlreadyExistsError(field=name)
            self._store.products[product.id] = product

    async def update(self, product: Product, expected_version: int) -> Product:
        stored = self._store.products[product.id]
        if stored.version != expected_version or stored.deleted_at is not None:
            raise StaleVersionError()
        saved = replace(product, version=stored.version + 1)
        self._store.products[product.id] = saved
        return saved

    async def adjust_stock(self, product_id: UUID, delta: int, now: datetime) -> Product | None:
        product = self._store.products.get(product_id)
        if product is None or product.deleted_at is not None or product.stock + delta < 0:
            return None
        saved = replace(product, stock=product.stock + delta, updated_at=now)
        self._store.products[product_id] = saved
        return saved

    async def search(
        self, query: ProductFilter, *, offset: int, limit: int
    ) -> tuple[list[Product], int]:
        terms = search_terms(query.q)
        found = [
            p
            for p in self._store.products.values()
            if p.deleted_at is None
            and (p.is_published or query.include_unpublished)
            and all(t in p.name.lower() for t in terms)
        ]
        return found[offset : offset + limit], len(found)

    async def count_in_category(self, category_id: UUID) -> int:
        return sum(
            1
            for p in self._store.products.values()
            if p.category_id == category_id and p.deleted_at is None
        )

    async def exists(self) -> bool:
        return any(p.deleted_at is None for p in self._store.products.values())


class FakeCategories:
    def __init__(self, store: CatalogStore) -> None:
        self._store = store

    async def get(self, category_id: UUID) -> Category | None:
        return self._store.categories.get(category_id)

    async def get_by_slug(self, slug: str) -> Category | None:
        return next((c for c in self._store.categories.values() if c.slug == slug), None)

    async def list_all(self) -> list[Category]:
        return [c for c in self._store.categories.values() if c.deleted_at is None]

    async def add(self, category: Category) -> None:
        await self.add_many([category])

    async def add_many(self, categories: Sequence[Category]) -> None:
        for category in categories:
            if await self.get_by_slug(category.slug):
                raise AlreadyExistsError(field="slug")
            self._store.categories[category.id] = category

    async def update(self, category: Category, expected_version: int) -> Category:
        stored = self._store.categories[category.id]
        if stored.version != expected_version:
            raise StaleVersionError()
        saved = replace(category, version=stored.version + 1)
        self._store.categories[category.id] = saved
        return saved

    async def has_children(self, category_id: UUID) -> bool:
        return any(
            c.parent_id == category_id and c.deleted_at is None
            for c in self._store.categories.values()
        )


class FakeCatalogUnitOfWork:
    """Changes go straight to the store (no rollback); events only on commit."""

    def __init__(self, store: CatalogStore) -> None:
        self.store = store
        self.products = FakeProducts(store)
        self.categories = FakeCategories(store)
        self._pending: list[DomainEvent] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._pending.clear()

    def record(self, event: DomainEvent) -> None:
        self._pending.append(event)

    async def commit(self) -> None:
        self.store.events.extend(self._pending)
        self._pending.clear()
        self.store.commits += 1
