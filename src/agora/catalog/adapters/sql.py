"""SQL repositories of the catalog (SQLAlchemy Core on the unit of work's connection)."""

from __future__ import annotations

import time
from collections.abc import Collection, Hashable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Row,
    Select,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from agora.catalog.adapters import search
from agora.catalog.adapters.search import TextSearch
from agora.catalog.adapters.tables import categories, products
from agora.catalog.domain import Category, Product, ProductFilter, ProductSort, search_terms
from agora.platform.db.schema import optional_uuid, plain_uuid
from agora.platform.db.transaction import SqlUnitOfWork
from agora.platform.errors import AlreadyExistsError, StaleVersionError
from agora.platform.money import Money

PRODUCT_COLUMNS = tuple(products.c)
BULK_BATCH = 1_000


class TotalCache:
    """Recently counted list totals, per filter, for a few seconds.

    Counting a large result is the expensive half of a list page (a scan of every
    matching row, ~50-100 ms for 100,000 products on a small machine), while the page
    itself is an index walk of 20 rows. Totals of results that fit on one page are
    always exact (no count runs); totals of larger results may lag by ``ttl`` seconds.
    """

    def __init__(self, ttl: float = 10.0, max_entries: int = 4096) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[Hashable, tuple[float, int]] = {}

    def get(self, key: Hashable) -> int | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: Hashable, total: int) -> None:
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self._ttl, total)


def product_from_row(row: Row[Any]) -> Product:
    return Product(
        id=plain_uuid(row.id),
        sku=row.sku,
        slug=row.slug,
        name=row.name,
        description=row.description,
        price=Money(row.price_amount, row.currency),
        stock=row.stock,
        category_id=optional_uuid(row.category_id),
        is_published=bool(row.is_published),
        attributes=row.attributes or {},
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        deleted_at=row.deleted_at,
    )


def product_values(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "sku": product.sku,
        "slug": product.slug,
        "name": product.name,
        "description": product.description,
        "price_amount": product.price.amount,
        "currency": product.price.currency,
        "stock": product.stock,
        "category_id": product.category_id,
        "is_published": product.is_published,
        "attributes": product.attributes,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
        "version": product.version,
        "deleted_at": product.deleted_at,
    }


def category_from_row(row: Row[Any]) -> Category:
    return Category(
        id=plain_uuid(row.id),
        slug=row.slug,
        name=row.name,
        parent_id=optional_uuid(row.parent_id),
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        deleted_at=row.deleted_at,
    )


def category_values(category: Category) -> dict[str, Any]:
    return {
        "id": category.id,
        "slug": category.slug,
        "name": category.name,
        "parent_id": category.parent_id,
        "created_at": category.created_at,
        "updated_at": category.updated_at,
        "version": category.version,
        "deleted_at": category.deleted_at,
    }


def duplicate_field(exc: IntegrityError, fields: Sequence[str]) -> str | None:
    """The unique field a violation names (PostgreSQL and SQLite word it differently)."""
    message = str(exc.orig).lower()
    if "unique" not in message and "duplicate" not in message:
        return None
    for name in fields:
        if f"_{name}" in message or f".{name}" in message:
            return name
    return fields[0]


class SqlProductRepository:
    def __init__(self, connection: AsyncConnection, totals: TotalCache | None = None) -> None:
        self._conn = connection
        self._postgres = connection.dialect.name == "postgresql"
        self._totals = totals

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
            try:
                await self._conn.execute(insert(products), batch)
            except IntegrityError as exc:
                field = duplicate_field(exc, ("sku", "slug"))
                if field is None:
                    raise
                raise AlreadyExistsError(
                    f"A product with this {field} already exists.", field=field
                ) from None

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
        try:
            row = (await self._conn.execute(statement)).first()
        except IntegrityError as exc:
            field = duplicate_field(exc, ("sku", "slug"))
            if field is None:
                raise
            raise AlreadyExistsError(
                f"A product with this {field} already exists.", field=field
            ) from None
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
        terms = search_terms(query.q)
        text_search: TextSearch | None = None
        if terms:
            if self._postgres:
                text_search = search.postgres_search(terms, query.q or "", fuzzy=False)
            else:
                text_search = search.sqlite_search(terms)
        page, total = await self._page(query, text_search, offset, limit, fuzzy=False)
        if terms and self._postgres and total < search.FUZZY_BELOW:
            # Few exact hits: probably a typo. Ask again, adding trigram-similar names.
            await self._conn.execute(
                text("SELECT set_config('pg_trgm.word_similarity_threshold', :t, true)"),
                {"t": str(search.WORD_SIMILARITY_THRESHOLD)},
            )
            page, total = await self._page(
                query,
                search.postgres_search(terms, query.q or "", fuzzy=True),
                offset,
                limit,
                fuzzy=True,
            )
        return page, total

    async def _page(
        self,
        query: ProductFilter,
        text_search: TextSearch | None,
        offset: int,
        limit: int,
        *,
        fuzzy: bool,
    ) -> tuple[list[Product], int]:
        conditions = self._conditions(query)
        source = products if text_search is None else text_search.source
        if text_search is not None:
            conditions.append(text_search.condition)
        listing: Select[Any] = (
            select(*PRODUCT_COLUMNS)
            .select_from(source)
            .where(*conditions)
            .order_by(*self._order(query, text_search))
            .offset(offset)
            .limit(limit)
        )
        rows = (await self._conn.execute(listing)).all()
        if offset == 0 and len(rows) < limit:
            total = len(rows)  # the whole result fits on this page: no count needed
        else:
            total = await self._count(query, source, conditions, fuzzy=fuzzy)
        return [product_from_row(row) for row in rows], total

    async def _count(
        self,
        query: ProductFilter,
        source: FromClause,
        conditions: list[ColumnElement[bool]],
        *,
        fuzzy: bool,
    ) -> int:
        key = (replace(query, sort=None), fuzzy)
        cached = self._totals.get(key) if self._totals else None
        if cached is not None:
            return cached
        counting = select(func.count()).select_from(source).where(*conditions)
        total = int((await self._conn.execute(counting)).scalar_one())
        if self._totals:
            self._totals.put(key, total)
        return total

    def _conditions(self, query: ProductFilter) -> list[ColumnElement[bool]]:
        c = products.c
        conditions: list[ColumnElement[bool]] = [c.deleted_at.is_(None)]
        if not query.include_unpublished:
            conditions.append(c.is_published)
        if query.category is not None:
            conditions.append(c.category_id.in_(_subtree(query.category)))
        if query.min_price is not None:
            conditions.append(c.price_amount >= query.min_price)
        if query.max_price is not None:
            conditions.append(c.price_amount <= query.max_price)
        if query.in_stock is True:
            conditions.append(c.stock > 0)
        elif query.in_stock is False:
            conditions.append(c.stock == 0)
        return conditions

    @staticmethod
    def _order(query: ProductFilter, text_search: TextSearch | None) -> list[ColumnElement[Any]]:
        c = products.c
        sort = query.effective_sort
        if sort is ProductSort.RELEVANCE and text_search is not None:
            return [*text_search.order_by, c.id.desc()]
        by_sort: dict[ProductSort, list[ColumnElement[Any]]] = {
            ProductSort.PRICE_ASC: [c.price_amount.asc(), c.id.asc()],
            ProductSort.PRICE_DESC: [c.price_amount.desc(), c.id.desc()],
            ProductSort.NAME_ASC: [c.name.asc(), c.id.asc()],
            ProductSort.NAME_DESC: [c.name.desc(), c.id.desc()],
        }
        # Newest first; ids are UUIDv7, so the id breaks ties in creation order too.
        return by_sort.get(sort, [c.created_at.desc(), c.id.desc()])

    async def count_in_category(self, category_id: UUID) -> int:
        query = select(func.count()).where(
            products.c.category_id == category_id, products.c.deleted_at.is_(None)
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def exists(self) -> bool:
        query = select(exists().where(products.c.deleted_at.is_(None)))
        return bool((await self._conn.execute(query)).scalar())


def _subtree(category: UUID | str) -> Select[Any]:
    """Ids of a category (by id or slug) and all its descendants, in one recursive CTE."""
    c = categories.c
    anchor_match = c.id == category if isinstance(category, UUID) else c.slug == category
    tree = select(c.id).where(anchor_match, c.deleted_at.is_(None)).cte("subtree", recursive=True)
    below = categories.alias("below")
    tree = tree.union_all(
        select(below.c.id).where(below.c.parent_id == tree.c.id, below.c.deleted_at.is_(None))
    )
    return select(tree.c.id)


class SqlCategoryRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def get(self, category_id: UUID) -> Category | None:
        query = select(categories).where(categories.c.id == category_id)
        row = (await self._conn.execute(query)).first()
        return category_from_row(row) if row else None

    async def get_by_slug(self, slug: str) -> Category | None:
        query = select(categories).where(categories.c.slug == slug)
        row = (await self._conn.execute(query)).first()
        return category_from_row(row) if row else None

    async def list_all(self) -> list[Category]:
        query = (
            select(categories)
            .where(categories.c.deleted_at.is_(None))
            .order_by(categories.c.name, categories.c.id)
        )
        return [category_from_row(row) for row in await self._conn.execute(query)]

    async def add(self, category: Category) -> None:
        await self.add_many([category])

    async def add_many(self, items: Sequence[Category]) -> None:
        if not items:
            return
        try:
            await self._conn.execute(insert(categories), [category_values(c) for c in items])
        except IntegrityError as exc:
            if duplicate_field(exc, ("slug",)) is None:
                raise
            raise AlreadyExistsError(
                "A category with this slug already exists.", field="slug"
            ) from None

    async def update(self, category: Category, expected_version: int) -> Category:
        values = category_values(category)
        for key in ("id", "created_at", "version"):
            values.pop(key)
        statement = (
            update(categories)
            .where(
                categories.c.id == category.id,
                categories.c.version == expected_version,
                categories.c.deleted_at.is_(None),
            )
            .values(**values, version=categories.c.version + 1)
            .returning(*categories.c)
        )
        try:
            row = (await self._conn.execute(statement)).first()
        except IntegrityError as exc:
            if duplicate_field(exc, ("slug",)) is None:
                raise
            raise AlreadyExistsError(
                "A category with this slug already exists.", field="slug"
            ) from None
        if row is None:
            raise StaleVersionError(expected_version=expected_version)
        return category_from_row(row)

    async def has_children(self, category_id: UUID) -> bool:
        query = select(
            exists().where(categories.c.parent_id == category_id, categories.c.deleted_at.is_(None))
        )
        return bool((await self._conn.execute(query)).scalar())


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
