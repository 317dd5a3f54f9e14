"""GET /products: search, filters, sorting and pagination through HTTP."""

from __future__ import annotations

import uuid

import httpx

from tests.support.accounts import Account
from tests.support.catalog import create_category, create_product

API = "/api/v1"


def word() -> str:
    return "z" + uuid.uuid4().hex[:10]


async def test_search_returns_ranked_matches_with_pagination_meta(
    client: httpx.AsyncClient, staff: Account
) -> None:
    w = word()
    described = await create_product(client, staff.headers, description=f"Goes with {w}.")
    named = await create_product(client, staff.headers, name=f"The {w} deluxe")
    response = await client.get(f"{API}/products", params={"q": w})
    assert response.status_code == 200
    body = response.json()
    assert [p["id"] for p in body["data"]] == [named["id"], described["id"]]
    assert body["meta"]["pagination"] == {"page": 1, "page_size": 20, "total": 2, "pages": 1}
    assert set(body["data"][0]) == {
        "id", "sku", "slug", "name", "description", "price", "stock", "in_stock",
        "category_id", "is_published", "attributes", "version", "created_at", "updated_at",
    }  # fmt: skip


async def test_filters_and_sorts_combine(client: httpx.AsyncClient, staff: Account) -> None:
    w = word()
    parent = await create_category(client, staff.headers)
    child = await create_category(client, staff.headers, parent_id=parent["id"])
    cheap = await create_product(
        client, staff.headers, name=f"{w} one", price={"amount": 300, "currency": "EUR"},
        category_id=child["id"],
    )  # fmt: skip
    dear = await create_product(
        client, staff.headers, name=f"{w} two", price={"amount": 9000, "currency": "EUR"},
        category_id=parent["id"],
    )  # fmt: skip
    await create_product(client, staff.headers, name=f"{w} three", stock=0)
    params = {"q": w, "category": parent["slug"], "sort": "price_desc", "in_stock": "true"}
    response = await client.get(f"{API}/products", params=params)
    assert [p["id"] for p in response.json()["data"]] == [dear["id"], cheap["id"]]
    ranged = await client.get(
        f"{API}/products", params={"q": w, "min_price": 2000, "max_price": 9000}
    )
    assert [p["id"] for p in ranged.json()["data"]] == [dear["id"]]
    by_child = await client.get(f"{API}/products", params={"category": child["id"]})
    assert [p["id"] for p in by_child.json()["data"]] == [cheap["id"]]


async def test_page_size_is_capped_at_100_and_pages_walk_the_result(
    client: httpx.AsyncClient, staff: Account
) -> None:
    w = word()
    for _ in range(3):
        await create_product(client, staff.headers, name=f"Paged {w}")
    too_big = await client.get(f"{API}/products", params={"page_size": 101})
    assert too_big.status_code == 422
    assert too_big.json()["errors"]["code"] == "VALIDATION_ERROR"
    biggest = await client.get(f"{API}/products", params={"page_size": 100})
    assert biggest.status_code == 200
    assert len(biggest.json()["data"]) <= 100
    second = await client.get(f"{API}/products", params={"q": w, "page": 2, "page_size": 2})
    assert len(second.json()["data"]) == 1
    assert second.json()["meta"]["pagination"] == {
        "page": 2, "page_size": 2, "total": 3, "pages": 2,
    }  # fmt: skip


async def test_bad_list_parameters_are_422(client: httpx.AsyncClient) -> None:
    for params in (
        {"sort": "cheapest"},
        {"page": 0},
        {"page_size": 0},
        {"min_price": -1},
        {"max_price": "ten"},
        {"in_stock": "maybe"},
        {"min_price": 500, "max_price": 100},
        {"q": "x" * 201},
    ):
        response = await client.get(f"{API}/products", params=params)
        assert response.status_code == 422, params
        assert response.json()["errors"]["code"] == "VALIDATION_ERROR"


async def test_hostile_search_input_is_answered_normally(client: httpx.AsyncClient) -> None:
    for q in ('"', "*", "NEAR(", "'", "%", "\\", "' OR 1=1 --", "title:x", "a AND (b", ""):
        response = await client.get(f"{API}/products", params={"q": q})
        assert response.status_code == 200, q


async def test_customers_cannot_list_unpublished_products(
    client: httpx.AsyncClient, staff: Account, customer: Account
) -> None:
    w = word()
    hidden = await create_product(client, staff.headers, name=f"Hidden {w}", is_published=False)
    params = {"q": w, "include_unpublished": "true"}
    refused = await client.get(f"{API}/products", params=params, headers=customer.headers)
    assert refused.status_code == 403
    anonymous = await client.get(f"{API}/products", params=params)
    assert anonymous.status_code == 401
    plain = await client.get(f"{API}/products", params={"q": w}, headers=customer.headers)
    assert plain.json()["data"] == []
    staff_view = await client.get(f"{API}/products", params=params, headers=staff.headers)
    assert [p["id"] for p in staff_view.json()["data"]] == [hidden["id"]]
