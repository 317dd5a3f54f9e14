"""Shared helpers for the ordering API tests."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.accounts import Account
from tests.support.catalog import create_product


async def stock_of(client: httpx.AsyncClient, product_id: str) -> int:
    response = await client.get(f"/api/v1/products/{product_id}")
    assert response.status_code == 200, response.text
    stock: int = response.json()["data"]["stock"]
    return stock


async def place(
    client: httpx.AsyncClient,
    account: Account,
    items: list[dict[str, Any]] | None,
    token: str = "tok_success",  # noqa: S107 - a public test payment token
    key: str | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"payment_token": token}
    if items is not None:
        body["items"] = items
    headers = dict(account.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post("/api/v1/orders", json=body, headers=headers)


@pytest.fixture
async def product(client: httpx.AsyncClient, staff: Account) -> dict[str, Any]:
    return await create_product(client, staff.headers)
