"""The product list: filters, sort orders, text search and counted totals, in SQL.

``ProductListing`` answers ``ProductRepository.search`` on the unit of work's
connection; ``TotalCache`` keeps recently counted totals so that a large list does not
count every matching row on every page.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import replace
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, FromClause, Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from agora.catalog.adapters import search
from agora.catalog.adapters.rows import PRODUCT_COLUMNS, product_from_row
from agora.catalog.adapters.search import TextSearch
from agora.catalog.adapters.tables import categories, products
from agora.catalog.domain import Product, ProductFilter, ProductSort, search_terms


class TotalCache:
    """Recently counted list totals, per filter, for a few seconds.

    Counting a large result is the expensive half of a list page (a scan of every
    matching row, ~50-100 ms for 100,000 products on a small machine), while the page
    itself is an index walk of 20 rows. Totals of results that fit on one page are
    always exact (no count runs); totals of larger results may lag by ``ttl`` seconds.
    """

    def __init__(self, ttl: float, max_entries: int = 4096) -> None:
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


class ProductListing:
    """One page of products matching a filter, and the total number of matches."""

    def __init__(self, connection: AsyncConnection, totals: TotalCache | None = None) -> None:
        self._conn = connection
        self._postgres = connection.dialect.name == "postgresql"
        self._totals = totals

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
