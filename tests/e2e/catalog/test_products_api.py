"""The product API end to end: staff manage the catalog, shoppers see what is on sale."""

from __future__ import annotations

import uuid

import httpx

from tests.support.accounts import Account
from tests.support.catalog import create_category, create_product

API = "/api/v1"


async def test_staff_create_a_product_and_shoppers_read_it_by_id_and_slug(
    client: httpx.AsyncClient, staff: Account
) -> None:
    product = await create_product(
        client, staff.headers, attributes={"colour": "red", "sizes": ["S", "M"]}
    )
    assert product["price"] == {"amount": 1999, "currency": "EUR"}
    assert product["stock"] == 10
    assert product["in_stock"] is True
    assert product["is_published"] is True
    assert product["version"] == 1
    assert product["attributes"] == {"colour": "red", "sizes": ["S", "M"]}
    by_id = await client.get(f"{API}/products/{product['id']}")
    assert by_id.status_code == 200
    assert by_id.json()["data"] == product
    by_slug = await client.get(f"{API}/products/{product['slug']}")
    assert by_slug.json()["data"]["id"] == product["id"]


async def test_slug_is_generated_from_the_name_when_missing(
    client: httpx.AsyncClient, staff: Account
) -> None:
    suffix = uuid.uuid4().hex[:8]
    product = await create_product(client, staff.headers, slug=None, name=f"Crème Brûlée {suffix}!")
    assert product["slug"] == f"creme-brulee-{suffix}"


async def test_customers_and_anonymous_users_cannot_write(
    client: httpx.AsyncClient, staff: Account, customer: Account
) -> None:
    product = await create_product(client, staff.headers)
    body = {"sku": "X-1", "name": "X", "price": {"amount": 1, "currency": "EUR"}}
    attempts = [
        ("POST", f"{API}/products", body),
        ("PATCH", f"{API}/products/{product['id']}", {"version": 1, "name": "Hijacked"}),
        ("DELETE", f"{API}/products/{product['id']}", None),
        ("POST", f"{API}/products/{product['id']}/unpublish", None),
        ("POST", f"{API}/products/{product['id']}/stock-adjustments", {"delta": 5, "reason": "x"}),
    ]
    for method, url, payload in attempts:
        as_customer = await client.request(method, url, json=payload, headers=customer.headers)
        assert as_customer.status_code == 403, (method, url, as_customer.text)
        assert as_customer.json()["errors"]["code"] == "FORBIDDEN"
        anonymous = await client.request(method, url, json=payload)
        assert anonymous.status_code == 401, (method, url)
    unchanged = (await client.get(f"{API}/products/{product['id']}")).json()["data"]
    assert unchanged == product


async def test_duplicate_sku_or_slug_is_a_conflict(
    client: httpx.AsyncClient, staff: Account
) -> None:
    product = await create_product(client, staff.headers)
    for field in ("sku", "slug"):
        body = {
            "sku": f"DUP-{uuid.uuid4().hex[:8]}",
            "slug": f"dup-{uuid.uuid4().hex[:8]}",
            "name": "Duplicate",
            "price": {"amount": 100, "currency": "EUR"},
            field: product[field],
        }
        response = await client.post(f"{API}/products", json=body, headers=staff.headers)
        assert response.status_code == 409
        assert response.json()["errors"]["code"] == "ALREADY_EXISTS"
        assert response.json()["errors"]["details"] == {"field": field}


async def test_bad_product_input_is_refused_with_field_errors(
    client: httpx.AsyncClient, staff: Account
) -> None:
    good = {"sku": "OK-1", "name": "Fine", "price": {"amount": 100, "currency": "EUR"}}
    bad_bodies = [
        {**good, "price": {"amount": -1, "currency": "EUR"}},
        {**good, "price": {"amount": 1.5, "currency": "EUR"}},
        {**good, "price": {"amount": 100, "currency": "euro"}},
        {**good, "stock": -1},
        {**good, "slug": "Not A Slug"},
        {**good, "sku": "has spaces"},
        {**good, "name": ""},
        {**good, "category_id": "not-a-uuid"},
        {**good, "version": 3},  # unknown field: mass assignment is impossible
        {**good, "category_id": str(uuid.uuid4())},  # no such category
    ]
    for body in bad_bodies:
        response = await client.post(f"{API}/products", json=body, headers=staff.headers)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"]["code"] == "VALIDATION_ERROR"
    missing = await client.get(f"{API}/products/ok-1")
    assert missing.status_code == 404


async def test_patch_with_current_version_updates_and_stale_version_conflicts(
    client: httpx.AsyncClient, staff: Account
) -> None:
    product = await create_product(client, staff.headers)
    url = f"{API}/products/{product['id']}"
    changed = await client.patch(
        url,
        json={"version": 1, "name": "Renamed", "price": {"amount": 2500, "currency": "EUR"}},
        headers=staff.headers,
    )
    assert changed.status_code == 200, changed.text
    data = changed.json()["data"]
    assert (data["name"], data["price"]["amount"], data["version"]) == ("Renamed", 2500, 2)
    assert data["slug"] == product["slug"]
    stale = await client.patch(url, json={"version": 1, "name": "Lost"}, headers=staff.headers)
    assert stale.status_code == 409
    assert stale.json()["errors"]["code"] == "VERSION_CONFLICT"
    assert (await client.get(url)).json()["data"]["name"] == "Renamed"
    without_version = await client.patch(url, json={"name": "X"}, headers=staff.headers)
    assert without_version.status_code == 422
    null_name = await client.patch(url, json={"version": 2, "name": None}, headers=staff.headers)
    assert null_name.status_code == 422


async def test_patch_can_move_a_product_between_categories_and_out_of_any(
    client: httpx.AsyncClient, staff: Account
) -> None:
    category = await create_category(client, staff.headers)
    product = await create_product(client, staff.headers)
    url = f"{API}/products/{product['id']}"
    moved = await client.patch(
        url, json={"version": 1, "category_id": category["id"]}, headers=staff.headers
    )
    assert moved.json()["data"]["category_id"] == category["id"]
    cleared = await client.patch(
        url, json={"version": 2, "category_id": None}, headers=staff.headers
    )
    assert cleared.json()["data"]["category_id"] is None


async def test_unpublished_products_are_invisible_except_to_staff_who_ask(
    client: httpx.AsyncClient, staff: Account, customer: Account
) -> None:
    product = await create_product(client, staff.headers, is_published=False)
    url = f"{API}/products/{product['id']}"
    assert (await client.get(url)).status_code == 404
    assert (await client.get(url, headers=customer.headers)).status_code == 404
    assert (await client.get(url, headers=staff.headers)).status_code == 404
    asked = await client.get(url, params={"include_unpublished": "true"}, headers=staff.headers)
    assert asked.status_code == 200
    refused = await client.get(
        url, params={"include_unpublished": "true"}, headers=customer.headers
    )
    assert refused.status_code == 403
    listing = await client.get(f"{API}/products", params={"q": product["sku"]})
    assert product["id"] not in [p["id"] for p in listing.json()["data"]]
    published = await client.post(f"{url}/publish", headers=staff.headers)
    assert published.json()["data"]["is_published"] is True
    assert (await client.get(url, headers=customer.headers)).status_code == 200
    unpublished = await client.post(f"{url}/unpublish", headers=staff.headers)
    assert unpublished.json()["data"]["is_published"] is False
    assert (await client.get(url)).status_code == 404


async def test_deleted_products_disappear_for_everyone(
    client: httpx.AsyncClient, staff: Account
) -> None:
    product = await create_product(client, staff.headers)
    url = f"{API}/products/{product['id']}"
    deleted = await client.delete(url, headers=staff.headers)
    assert deleted.status_code == 204
    assert (await client.get(url)).status_code == 404
    assert (
        await client.get(url, params={"include_unpublished": "true"}, headers=staff.headers)
    ).status_code == 404
    again = await client.delete(url, headers=staff.headers)
    assert again.status_code == 404
    patch = await client.patch(url, json={"version": 2, "name": "Zombie"}, headers=staff.headers)
    assert patch.status_code == 404


async def test_unknown_products_are_404_and_bad_ids_are_422(
    client: httpx.AsyncClient, staff: Account
) -> None:
    assert (await client.get(f"{API}/products/{uuid.uuid4()}")).status_code == 404
    assert (await client.get(f"{API}/products/no-such-slug")).status_code == 404
    bad = await client.patch(
        f"{API}/products/not-a-uuid", json={"version": 1}, headers=staff.headers
    )
    assert bad.status_code == 422


async def test_stock_adjustments_are_relative_and_never_go_below_zero(
    client: httpx.AsyncClient, staff: Account
) -> None:
    product = await create_product(client, staff.headers, stock=3)
    url = f"{API}/products/{product['id']}/stock-adjustments"
    added = await client.post(url, json={"delta": 7, "reason": "delivery"}, headers=staff.headers)
    assert added.status_code == 200
    assert added.json()["data"]["stock"] == 10
    assert added.json()["data"]["version"] == product["version"]
    too_many = await client.post(url, json={"delta": -11, "reason": "loss"}, headers=staff.headers)
    assert too_many.status_code == 409
    assert too_many.json()["errors"]["details"]["stock"] == 10
    for body in ({"delta": 0, "reason": "x"}, {"delta": 1}, {"delta": 1, "reason": ""}):
        response = await client.post(url, json=body, headers=staff.headers)
        assert response.status_code == 422, body
    emptied = await client.post(url, json={"delta": -10, "reason": "sold"}, headers=staff.headers)
    assert emptied.json()["data"]["in_stock"] is False
    unknown = await client.post(
        f"{API}/products/{uuid.uuid4()}/stock-adjustments",
        json={"delta": 1, "reason": "x"},
        headers=staff.headers,
    )
    assert unknown.status_code == 404


async def test_patching_stock_is_an_absolute_stock_take_under_the_version(
    client: httpx.AsyncClient, staff: Account
) -> None:
    product = await create_product(client, staff.headers)
    url = f"{API}/products/{product['id']}"
    response = await client.patch(url, json={"version": 1, "stock": 42}, headers=staff.headers)
    assert response.json()["data"]["stock"] == 42
    negative = await client.patch(url, json={"version": 2, "stock": -1}, headers=staff.headers)
    assert negative.status_code == 422
