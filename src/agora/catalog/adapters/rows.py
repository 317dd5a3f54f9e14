"""Row mappers between the catalog's tables and its domain objects.

Also reads which unique field a violated constraint names, for the ``AlreadyExistsError``
both repositories raise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from agora.catalog.adapters.tables import products
from agora.catalog.domain import Category, Product
from agora.platform.db.schema import optional_uuid, plain_uuid
from agora.platform.money import Money

PRODUCT_COLUMNS = tuple(products.c)


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
