"""The catalog's domain: categories, products, their rules and the facts they raise.

Pure Python: values are validated here once, so every edge (REST, CLI seeding, web UI)
gets the same rules and the same error codes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from agora.platform.errors import ValidationError
from agora.platform.events import DomainEvent
from agora.platform.money import Money

SLUG_MAX = 120
SKU_MAX = 64
NAME_MAX = 200
DESCRIPTION_MAX = 10_000
MAX_STOCK = 1_000_000_000  # stays inside a 32-bit integer column
ATTRIBUTES_MAX_KEYS = 50
ATTRIBUTE_KEY_MAX = 64
ATTRIBUTE_VALUE_MAX = 500
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

_SLUG = re.compile(SLUG_PATTERN)
_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens ("Crème Brûlée!" -> "creme-brulee")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def validate_slug(slug: str) -> str:
    if not slug or len(slug) > SLUG_MAX or not _SLUG.match(slug):
        raise ValidationError(
            "A slug is 1 to 120 lower-case letters, digits and single hyphens.", field="slug"
        )
    return slug


def slug_or_generated(slug: str | None, name: str) -> str:
    """The given slug, validated, or one generated from the name."""
    if slug is not None:
        return validate_slug(slug)
    generated = slugify(name)
    if not generated:
        raise ValidationError(
            "No slug can be derived from this name; give a slug explicitly.", field="slug"
        )
    return generated


def validate_name(name: str, field_name: str = "name") -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationError("A name is 1 to 200 characters.", field=field_name)
    return name


def validate_sku(sku: str) -> str:
    sku = sku.strip()
    if not sku or len(sku) > SKU_MAX or not _SKU.match(sku):
        raise ValidationError(
            "A SKU is 1 to 64 letters, digits, dots, hyphens or underscores.", field="sku"
        )
    return sku


def validate_description(description: str) -> str:
    if len(description) > DESCRIPTION_MAX:
        raise ValidationError("A description is at most 10,000 characters.", field="description")
    return description


def validate_price(price: Money, shop_currency: str) -> Money:
    """A price the shop can sell at: not negative, and in the shop's one currency.

    Carts and orders add prices together, so a product in any other currency (even a
    real one) could never be checked out with the rest; several currencies need
    exchange rates and per-currency price lists first.
    """
    if price.amount < 0:
        raise ValidationError("A price cannot be negative.", field="price")
    # ``shop_currency`` is an active ISO 4217 code (checked when the catalog is built),
    # so equality also refuses every code that is not one.
    if price.currency != shop_currency:
        raise ValidationError(
            f"Prices are in {shop_currency}, the shop's currency.",
            field="price.currency",
            currency=price.currency,
            allowed=[shop_currency],
        )
    return price


def validate_stock(stock: int) -> int:
    if isinstance(stock, bool) or not isinstance(stock, int) or not 0 <= stock <= MAX_STOCK:
        raise ValidationError("Stock is a whole number from 0 to 1,000,000,000.", field="stock")
    return stock


def validate_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """Free-form facts shown on the product page: flat keys to scalars or short lists."""
    if len(attributes) > ATTRIBUTES_MAX_KEYS:
        raise ValidationError("At most 50 attributes.", field="attributes")
    for key, value in attributes.items():
        if not key or len(key) > ATTRIBUTE_KEY_MAX:
            raise ValidationError("Attribute names are 1 to 64 characters.", field="attributes")
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item is not None and not isinstance(item, str | int | float | bool):
                raise ValidationError(
                    "Attribute values are strings, numbers, booleans or lists of them.",
                    field="attributes",
                )
            if isinstance(item, str) and len(item) > ATTRIBUTE_VALUE_MAX:
                raise ValidationError(
                    "Attribute values are at most 500 characters.", field="attributes"
                )
    return attributes


@dataclass(slots=True)
class Category:
    id: UUID
    slug: str
    name: str
    parent_id: UUID | None
    created_at: datetime
    updated_at: datetime
    version: int = 1
    deleted_at: datetime | None = None


@dataclass(slots=True)
class CategoryNode:
    """A category with its children, for the tree view."""

    category: Category
    children: list[CategoryNode] = field(default_factory=list)


def build_tree(categories: list[Category]) -> list[CategoryNode]:
    """Nest categories under their parents; orphans (parent deleted) become roots."""
    nodes = {c.id: CategoryNode(c) for c in categories}
    roots: list[CategoryNode] = []
    for node in nodes.values():
        parent = nodes.get(node.category.parent_id) if node.category.parent_id else None
        (parent.children if parent else roots).append(node)
    return roots


def descendants(categories: list[Category], root_id: UUID) -> set[UUID]:
    """``root_id`` and every category below it."""
    children: dict[UUID, list[UUID]] = {}
    for c in categories:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c.id)
    found = {root_id}
    stack = [root_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


@dataclass(slots=True)
class Product:
    id: UUID
    sku: str
    slug: str
    name: str
    description: str
    price: Money
    stock: int
    category_id: UUID | None
    is_published: bool
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    version: int = 1
    deleted_at: datetime | None = None

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def is_visible(self) -> bool:
        """Shoppers see published products that were not deleted."""
        return self.is_published and self.deleted_at is None


@dataclass(frozen=True, slots=True)
class StockReservation:
    """What checkout learns from a successful reservation: enough to snapshot an order line."""

    id: UUID
    sku: str
    name: str
    price: Money


class ProductSort(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NAME_ASC = "name_asc"
    NAME_DESC = "name_desc"


@dataclass(frozen=True, slots=True)
class ProductFilter:
    """What a product list asks for; ``q`` is free text, already stripped."""

    q: str | None = None
    category: UUID | str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    include_unpublished: bool = False
    sort: ProductSort | None = None

    @property
    def effective_sort(self) -> ProductSort:
        """Relevance only means something with a query; otherwise newest first."""
        if self.sort is None or (self.sort is ProductSort.RELEVANCE and not self.q):
            return ProductSort.RELEVANCE if self.q else ProductSort.NEWEST
        return self.sort


def product_event(name: str, product: Product, **extra: Any) -> DomainEvent:
    payload: dict[str, Any] = {
        "product_id": str(product.id),
        "sku": product.sku,
        "version": product.version,
        "is_published": product.is_published,
        "stock": product.stock,
        **extra,
    }
    return DomainEvent(name=f"catalog.{name}", aggregate_id=product.id, payload=payload)


def category_event(name: str, category: Category) -> DomainEvent:
    return DomainEvent(
        name=f"catalog.{name}",
        aggregate_id=category.id,
        payload={"category_id": str(category.id), "slug": category.slug},
    )


_TERM = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_LENGTH = 200
MAX_TERMS = 12


def search_terms(q: str | None) -> list[str]:
    """The words of a search query; punctuation and operators of any engine are dropped.

    An empty list means "no text filter". Adapters build their engine's query only from
    these words, so no user input reaches an FTS or tsquery parser as syntax.
    """
    if not q:
        return []
    return [term.lower() for term in _TERM.findall(q[:MAX_QUERY_LENGTH])][:MAX_TERMS]
