"""Products are priced only in the shop's currency (AGORA_CURRENCY, EUR in tests)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.accounts import Account
from tests.support.catalog import create_product, unique_suffix

API = "/api/v1"


@pytest.mark.parametrize("currency", ["XYZ", "USD"])
async def test_a_product_in_another_currency_is_refused_and_not_created(
    client: httpx.AsyncClient, staff: Account, currency: str
) -> None:
    slug = f"foreign-{unique_suffix()}"
    body = {
        "sku": slug.upper(),
        "slug": slug,
        "name": "Foreign",
        "price": {"amount": 100, "currency": currency},
        "is_published": True,
    }
    response = await client.post(f"{API}/products", json=body, headers=staff.headers)
    assert response.status_code == 422, response.text
    error = response.json()["errors"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["allowed"] == ["EUR"]
    assert "EUR" in error["message"]
    assert (await client.get(f"{API}/products/{slug}")).status_code == 404


async def test_repricing_in_another_currency_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, staff: Account
) -> None:
    product = await create_product(client, staff.headers)
    url = f"{API}/products/{product['id']}"
    response = await client.patch(
        url,
        json={"version": product["version"], "price": {"amount": 5, "currency": "XYZ"}},
        headers=staff.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"]["details"]["allowed"] == ["EUR"]
    now = (await client.get(url)).json()["data"]
    assert (now["price"], now["version"]) == (product["price"], product["version"])
