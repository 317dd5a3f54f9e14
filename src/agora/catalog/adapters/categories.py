"""The catalog's category repository (SQLAlchemy Core on the unit of work's connection)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agora.catalog.adapters.rows import category_from_row, category_values, unique_fields
from agora.catalog.adapters.tables import categories
from agora.catalog.domain import Category
from agora.platform.errors import StaleVersionError

UNIQUE = ("slug",)  # a category's fields no two categories share


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
        with unique_fields("category", UNIQUE):
            await self._conn.execute(insert(categories), [category_values(c) for c in items])

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
        with unique_fields("category", UNIQUE):
            row = (await self._conn.execute(statement)).first()
        if row is None:
            raise StaleVersionError(expected_version=expected_version)
        return category_from_row(row)

    async def has_children(self, category_id: UUID) -> bool:
        query = select(
            exists().where(categories.c.parent_id == category_id, categories.c.deleted_at.is_(None))
        )
        return bool((await self._conn.execute(query)).scalar())
