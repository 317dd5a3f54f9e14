"""What staff give to create or change catalog entries, and the pure rules that turn it
into validated domain objects (no storage involved)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from agora.catalog.domain import (
    Category,
    Product,
    slug_or_generated,
    validate_attributes,
    validate_description,
    validate_name,
    validate_price,
    validate_sku,
    validate_slug,
    validate_stock,
)
from agora.platform.clock import utcnow
from agora.platform.errors import ValidationError
from agora.platform.ids import new_id
from agora.platform.money import Money

PRODUCT_FIELDS = frozenset(
    {
        "sku",
        "slug",
        "name",
        "description",
        "price",
        "stock",
        "category_id",
        "is_published",
        "attributes",
    }
)
CATEGORY_FIELDS = frozenset({"slug", "name", "parent_id"})


@dataclass(frozen=True, slots=True)
class ProductDraft:
    """What staff give to create a product; the slug is generated from the name if absent."""

    sku: str
    name: str
    price: Money
    description: str = ""
    slug: str | None = None
    stock: int = 0
    category_id: UUID | None = None
    is_published: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CategoryDraft:
    name: str
    slug: str | None = None
    parent_id: UUID | None = None


def new_product(draft: ProductDraft, shop_currency: str) -> Product:
    """A validated product from a draft (pure: no storage involved)."""
    name = validate_name(draft.name)
    now = utcnow()
    return Product(
        id=new_id(),
        sku=validate_sku(draft.sku),
        slug=slug_or_generated(draft.slug, name),
        name=name,
        description=validate_description(draft.description),
        price=validate_price(draft.price, shop_currency),
        stock=validate_stock(draft.stock),
        category_id=draft.category_id,
        is_published=draft.is_published,
        attributes=validate_attributes(dict(draft.attributes)),
        created_at=now,
        updated_at=now,
    )


def new_category(draft: CategoryDraft) -> Category:
    name = validate_name(draft.name)
    now = utcnow()
    return Category(
        id=new_id(),
        slug=slug_or_generated(draft.slug, name),
        name=name,
        parent_id=draft.parent_id,
        created_at=now,
        updated_at=now,
    )


def changed_product(product: Product, changes: Mapping[str, Any], shop_currency: str) -> Product:
    unknown = set(changes) - PRODUCT_FIELDS
    if unknown:
        raise ValidationError("Unknown fields.", fields=sorted(unknown))
    values: dict[str, Any] = {}
    validators: dict[str, Callable[[Any], Any]] = {
        "sku": validate_sku,
        "slug": validate_slug,
        "name": validate_name,
        "description": validate_description,
        "price": lambda price: validate_price(price, shop_currency),
        "stock": validate_stock,
        "attributes": lambda a: validate_attributes(dict(a)),
    }
    for key, value in changes.items():
        if value is None and key != "category_id":
            raise ValidationError(f"'{key}' cannot be null.", field=key)
        check = validators.get(key)
        values[key] = check(value) if check else value
    return replace(product, **values, updated_at=utcnow())
