"""Request and response shapes of the catalog API (never the domain objects themselves)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field

from agora.catalog.domain import (
    MAX_STOCK,
    NAME_MAX,
    SLUG_MAX,
    SLUG_PATTERN,
    CategoryNode,
    Product,
)
from agora.http.bounds import Int32, Version
from agora.http.schemas import MoneyIn, MoneyOut, RequestModel, ResponseModel

Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
Slug = Annotated[str, Field(min_length=1, max_length=SLUG_MAX, pattern=SLUG_PATTERN)]


class ProductCreate(RequestModel):
    sku: str = Field(min_length=1, max_length=64, examples=["TSHIRT-RED-M"])
    name: Name
    slug: Slug | None = Field(default=None, description="Generated from the name when omitted.")
    description: str = Field(default="", max_length=10_000)
    price: MoneyIn
    stock: Int32 = Field(default=0, ge=0, le=MAX_STOCK)
    category_id: UUID | None = None
    is_published: bool = False
    attributes: dict[str, Any] = Field(default_factory=dict, max_length=50)


class ProductUpdate(RequestModel):
    """Only the fields sent are changed; ``version`` is the one the client last read."""

    version: Version
    sku: str | None = Field(default=None, min_length=1, max_length=64)
    name: Name | None = None
    slug: Slug | None = None
    description: str | None = Field(default=None, max_length=10_000)
    price: MoneyIn | None = None
    stock: Int32 | None = Field(
        default=None, ge=0, le=MAX_STOCK, description="Absolute stock-take."
    )
    category_id: UUID | None = None
    is_published: bool | None = None
    attributes: dict[str, Any] | None = Field(default=None, max_length=50)

    def changes(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in self.model_fields_set - {"version"}:
            value = getattr(self, name)
            values[name] = value.to_money() if isinstance(value, MoneyIn) else value
        return values


class StockAdjustment(RequestModel):
    delta: Int32 = Field(ge=-MAX_STOCK, le=MAX_STOCK, description="Units to add (or remove).")
    reason: str = Field(min_length=1, max_length=200, examples=["stock-take correction"])


class ProductOut(BaseModel):
    id: UUID
    sku: str
    slug: str
    name: str
    description: str
    price: MoneyOut
    stock: int
    in_stock: bool
    category_id: UUID | None
    is_published: bool
    attributes: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


def product_out(product: Product) -> dict[str, Any]:
    """The ``ProductOut`` shape as a plain dict (serialised once, by orjson)."""
    return {
        "id": product.id,
        "sku": product.sku,
        "slug": product.slug,
        "name": product.name,
        "description": product.description,
        "price": {"amount": product.price.amount, "currency": product.price.currency},
        "stock": product.stock,
        "in_stock": product.in_stock,
        "category_id": product.category_id,
        "is_published": product.is_published,
        "attributes": product.attributes,
        "version": product.version,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }


class CategoryCreate(RequestModel):
    name: Name
    slug: Slug | None = Field(default=None, description="Generated from the name when omitted.")
    parent_id: UUID | None = None


class CategoryUpdate(RequestModel):
    version: Version
    name: Name | None = None
    slug: Slug | None = None
    parent_id: UUID | None = None

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set - {"version"}}


class CategoryOut(ResponseModel):
    id: UUID
    slug: str
    name: str
    parent_id: UUID | None
    version: int
    created_at: datetime
    updated_at: datetime


class CategoryTreeOut(CategoryOut):
    children: list[CategoryTreeOut]


def category_tree_out(node: CategoryNode) -> dict[str, Any]:
    return {
        **CategoryOut.of(node.category),
        "children": [category_tree_out(child) for child in node.children],
    }
