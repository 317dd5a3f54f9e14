"""The events the catalog publishes, with their payload schemas (version 1)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from agora.platform.events import EventPayload, EventType


class ProductChanged(EventPayload):
    product_id: UUID
    sku: str
    version: int
    is_published: bool
    stock: int


class ProductUpdated(ProductChanged):
    fields: list[str]


class StockAdjusted(ProductChanged):
    delta: int
    reason: str


class CategoryChanged(EventPayload):
    category_id: UUID
    slug: str


EVENT_TYPES: tuple[EventType[Any], ...] = (
    EventType("catalog.ProductCreated", ProductChanged, "A product was added to the catalog."),
    EventType("catalog.ProductUpdated", ProductUpdated, "A product's fields changed."),
    EventType("catalog.ProductPublished", ProductChanged, "A product became visible to shoppers."),
    EventType("catalog.ProductUnpublished", ProductChanged, "A product was hidden from shoppers."),
    EventType("catalog.ProductDeleted", ProductChanged, "A product was removed (soft delete)."),
    EventType("catalog.StockAdjusted", StockAdjusted, "Staff added or removed stock units."),
    EventType("catalog.CategoryCreated", CategoryChanged, "A category was created."),
    EventType("catalog.CategoryUpdated", CategoryChanged, "A category was renamed or moved."),
    EventType("catalog.CategoryDeleted", CategoryChanged, "A category was deleted."),
)
