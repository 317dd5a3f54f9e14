"""Catalog integration fixtures: the real service on the real database, acting as staff."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from agora.bootstrap import Container
from agora.catalog.domain import Product
from agora.catalog.drafts import ProductDraft
from agora.catalog.services import CatalogService
from agora.platform.access import Principal, Role
from agora.platform.ids import new_id
from agora.platform.money import Money


@pytest.fixture
def catalog(container: Container) -> CatalogService:
    return container.commerce.catalog


@pytest.fixture
def staff_principal() -> Principal:
    return Principal.for_user(new_id(), Role.STAFF)


def token() -> str:
    """A random word no other test's product contains."""
    return "w" + uuid.uuid4().hex[:10]


async def make_product(catalog: CatalogService, principal: Principal, **overrides: Any) -> Product:
    suffix = uuid.uuid4().hex[:12]
    values: dict[str, Any] = {
        "sku": f"IT-{suffix}",
        "name": f"Item {suffix}",
        "slug": f"item-{suffix}",
        "price": Money(1999, "EUR"),
        "stock": 10,
        "is_published": True,
    }
    values.update(overrides)
    return await catalog.create_product(principal, ProductDraft(**values))
