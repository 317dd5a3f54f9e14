"""Test support for the catalog side: factories and fixtures.

``create_product`` and ``create_category`` go through the REST API as the caller whose
``headers`` are given (a staff or admin account), with random unique SKUs and slugs so
tests never share rows. Both return the JSON ``data`` of the created resource.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx


def unique_suffix() -> str:
    return uuid.uuid4().hex[:12]


async def create_category(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    """A category (top level unless ``parent_id`` is given)."""
    suffix = unique_suffix()
    body: dict[str, Any] = {"name": f"Category {suffix}", "slug": f"category-{suffix}"}
    body.update(overrides)
    response = await client.post("/api/v1/categories", json=body, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def create_product(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    """A published product with 10 in stock at 19.99 EUR unless ``overrides`` say otherwise."""
    suffix = unique_suffix()
    body: dict[str, Any] = {
        "sku": f"TEST-{suffix.upper()}",
        "slug": f"test-product-{suffix}",
        "name": f"Test Product {suffix}",
        "description": "A product made for a test.",
        "price": {"amount": 1999, "currency": "EUR"},
        "stock": 10,
        "is_published": True,
    }
    body.update(overrides)
    response = await client.post("/api/v1/products", json=body, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data
